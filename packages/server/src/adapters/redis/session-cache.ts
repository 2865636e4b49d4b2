// Cookie sessions cached in Redis under the SHA-256 of the cookie value, as one compact string
// with a TTL equal to the session's remaining life (idle or absolute expiry, whichever comes
// first; a slide moves it). A revoked session's key holds a tombstone until its absolute expiry,
// so a reader that fetched the session just before the revocation cannot put it back (`SET NX`
// fails on the tombstone).
import type { Session } from '../../core/model.js';
import { DependencyUnavailableError } from '../../core/errors.js';
import type { CachedSession, SessionCache } from '../../ports/session-cache.js';
import { BatchedGet } from './batched-get.js';
import type { RedisConnection } from './connect.js';

const TOMBSTONE = '-';
const STRATEGIES = { s: 'session', h: 'hybrid' } as const;

/**
 * Sets a value and its new TTL only if the key holds a live entry: a slide never revives a
 * tombstone.
 */
const UPDATE_LIVE = `
local current = redis.call('GET', KEYS[1])
if current and current ~= ARGV[2] then
  return redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
end
return nil`;

/** Milliseconds until the session ends unless used again. */
function remainingLife(session: Session, now: number): number {
  return Math.min(session.idleExpiresAt, session.expiresAt) - now;
}

function encode(session: Session): string {
  return [
    session.id,
    session.userId,
    session.clientId,
    session.strategy === 'session' ? 's' : 'h',
    session.createdAt.toString(36),
    session.lastSeenAt.toString(36),
    session.idleExpiresAt.toString(36),
    session.expiresAt.toString(36),
  ].join('|');
}

function decode(value: string): CachedSession | undefined {
  const [id, userId, clientId, strategy, created, lastSeen, idle, expires] = value.split('|');
  if (!id || !userId || !clientId || (strategy !== 's' && strategy !== 'h') || !expires)
    return undefined;
  return {
    id,
    userId,
    clientId,
    strategy: STRATEGIES[strategy],
    createdAt: parseInt(created ?? '', 36),
    lastSeenAt: parseInt(lastSeen ?? '', 36),
    idleExpiresAt: parseInt(idle ?? '', 36),
    expiresAt: parseInt(expires, 36),
    ip: null,
    userAgent: null,
    revokedAt: null,
  };
}

function parse(value: string | null): CachedSession | 'revoked' | undefined {
  if (value === null) return undefined;
  if (value === TOMBSTONE) return 'revoked';
  return decode(value);
}

export class RedisSessionCache implements SessionCache {
  private readonly lookups: BatchedGet;

  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix = 'lk:s:',
  ) {
    this.lookups = new BatchedGet(redis);
  }

  private key(secretHash: string): string {
    return this.prefix + secretHash;
  }

  private async call<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw new DependencyUnavailableError('redis', { cause: error });
    }
  }

  lookup(secretHash: string): Promise<CachedSession | 'revoked' | undefined> {
    return this.lookups.get(this.key(secretHash)).then(parse, (error: unknown) => {
      throw new DependencyUnavailableError('redis', { cause: error });
    });
  }

  async remember(secretHash: string, session: Session, now: number): Promise<void> {
    const ttl = remainingLife(session, now);
    if (ttl <= 0) return;
    await this.call(() => this.redis.set(this.key(secretHash), encode(session), 'PX', ttl, 'NX'));
  }

  async update(secretHash: string, session: Session, now: number): Promise<void> {
    const ttl = remainingLife(session, now);
    if (ttl <= 0) return;
    await this.call(() =>
      this.redis.eval(UPDATE_LIVE, 1, this.key(secretHash), encode(session), TOMBSTONE, ttl),
    );
  }

  async forget(
    entries: ReadonlyArray<{ secretHash: string; expiresAt: number }>,
    now: number,
  ): Promise<void> {
    if (entries.length === 0) return;
    await this.call(() =>
      Promise.all(
        entries.map(({ secretHash, expiresAt }) =>
          this.redis.set(this.key(secretHash), TOMBSTONE, 'PX', Math.max(expiresAt - now, 1000)),
        ),
      ),
    );
  }

  async ping(): Promise<void> {
    await this.call(() => this.redis.ping());
  }

  async close(): Promise<void> {
    this.redis.disconnect();
    return Promise.resolve();
  }
}
