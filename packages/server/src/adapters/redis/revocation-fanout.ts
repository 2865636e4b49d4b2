// Revocation events over Redis pub/sub, so every instance drops a revoked session, token or
// user epoch within milliseconds instead of at its next poll of the log. The log stays the
// record: a message lost while Redis is away is still read from it.
import type { RevocationEvent } from '../../core/model.js';
import { DependencyUnavailableError } from '../../core/errors.js';
import { Cluster } from 'ioredis';
import type { RedisConnection } from './connect.js';

function parseEvent(message: string): RevocationEvent | null {
  try {
    const event = JSON.parse(message) as Partial<RevocationEvent>;
    if (
      typeof event.seq === 'number' &&
      (event.kind === 'session' || event.kind === 'user' || event.kind === 'token') &&
      typeof event.subjectId === 'string' &&
      typeof event.at === 'number' &&
      typeof event.until === 'number'
    ) {
      return event as RevocationEvent;
    }
  } catch {
    // ignore malformed messages
  }
  return null;
}

export class RedisRevocationFanout {
  private readonly subscriber: RedisConnection;

  constructor(
    private readonly publisher: RedisConnection,
    private readonly channel: string,
    onEvent: (event: RevocationEvent) => void,
  ) {
    // A connection in subscriber mode can do nothing else: it gets its own, which queues the
    // subscription until connected and re-subscribes after reconnects.
    this.subscriber =
      publisher instanceof Cluster
        ? publisher.duplicate(undefined, { enableOfflineQueue: true })
        : publisher.duplicate({ enableOfflineQueue: true });
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      const event = parseEvent(message);
      if (event) onEvent(event);
    });
    this.subscriber.on('error', () => {
      // Reconnection is automatic; the revocation log covers the gap.
    });
    void this.subscriber.subscribe(this.channel).catch(() => undefined);
  }

  readonly publish = async (event: RevocationEvent): Promise<void> => {
    try {
      await this.publisher.publish(this.channel, JSON.stringify(event));
    } catch (error) {
      throw new DependencyUnavailableError('redis', { cause: error });
    }
  };

  close(): void {
    this.subscriber.disconnect();
  }
}
