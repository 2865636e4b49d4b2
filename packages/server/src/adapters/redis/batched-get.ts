// GETs issued during one turn of the event loop, sent as one MGET at its end. Every cookie request
// reads its session from Redis; one command and one reply per request cost a write and a read
// system call each and ioredis's per-command machinery, several times what Redis spends on the
// GET. Requests that arrive together (one poll of the sockets) now share them. Nothing waits for
// a batch to fill: the first GET of a turn schedules the send for the end of that turn.
//
// A Redis Cluster refuses an MGET over keys of different slots, so there each GET goes alone.
import { Cluster } from 'ioredis';
import type { RedisConnection } from './connect.js';

interface Pending {
  readonly key: string;
  readonly resolve: (value: string | null) => void;
  readonly reject: (error: unknown) => void;
}

export class BatchedGet {
  private pending: Pending[] = [];
  private readonly alone: boolean;

  constructor(private readonly redis: RedisConnection) {
    this.alone = redis instanceof Cluster;
  }

  get(key: string): Promise<string | null> {
    if (this.alone) return this.redis.get(key);
    return new Promise((resolve, reject) => {
      if (this.pending.push({ key, resolve, reject }) === 1) setImmediate(() => this.send());
    });
  }

  private send(): void {
    const batch = this.pending;
    this.pending = [];
    const keys = batch.map((pending) => pending.key);
    const sent =
      keys.length === 1 ? this.redis.get(keys[0]!).then((v) => [v]) : this.redis.mget(keys);
    void sent.then(
      (values) => batch.forEach((pending, i) => pending.resolve(values[i] ?? null)),
      (error: unknown) => batch.forEach((pending) => pending.reject(error)),
    );
  }
}
