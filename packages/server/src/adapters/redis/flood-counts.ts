// The flood limits' per-address counts in Redis: one integer per address and window, added to by
// every instance and gone one window after its own has ended. ioredis pipelines the commands of
// one exchange (auto-pipelining, per node on a Cluster).
import type { SharedFloodCounts } from '../../ports/flood-counts.js';
import type { RedisConnection } from './connect.js';

/** KEYS[1]; ARGV: hits, expire-at (ms). Adds and sets the expiry together, so no count outlives it. */
const ADD = `
local total = redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
return total`;

export class RedisFloodCounts implements SharedFloodCounts {
  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
  ) {}

  async add(
    windowStart: number,
    windowMs: number,
    hits: ReadonlyMap<string, number>,
  ): Promise<Map<string, number>> {
    // Kept a window longer than needed: instances' clocks may disagree about when one ends.
    const expireAt = windowStart + 2 * windowMs;
    const entries = [...hits];
    const totals = await Promise.all(
      entries.map(([key, count]) =>
        this.redis.eval(ADD, 1, `${this.prefix}${windowStart}:${key}`, count, expireAt),
      ),
    );
    return new Map(entries.map(([key], i) => [key, Number(totals[i])]));
  }
}
