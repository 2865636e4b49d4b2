// Throttle counters in Redis, for deployments that run several instances on it: one hash per
// key with the failure count and the block, expiring by itself once neither matters.
import { DependencyUnavailableError } from '../../core/errors.js';
import type { ThrottleStore } from '../../ports/throttle.js';
import type { RedisConnection } from './connect.js';

/** KEYS[1]; ARGV: now, resetAfterMs. Counts a failure, restarting after a quiet period. */
const RECORD_FAILURE = `
local last = tonumber(redis.call('HGET', KEYS[1], 'l') or '0')
local failures = 1
if last >= tonumber(ARGV[1]) - tonumber(ARGV[2]) then
  failures = redis.call('HINCRBY', KEYS[1], 'f', 1)
else
  redis.call('HSET', KEYS[1], 'f', 1)
end
redis.call('HSET', KEYS[1], 'l', ARGV[1])
local blocked = tonumber(redis.call('HGET', KEYS[1], 'b') or '0')
local keep = math.max(tonumber(ARGV[2]), blocked - tonumber(ARGV[1]))
redis.call('PEXPIRE', KEYS[1], math.max(keep, 1))
return failures`;

/** KEYS[1]; ARGV: until, now. Never shortens a block; keeps the key alive while it runs. */
const BLOCK = `
local blocked = tonumber(redis.call('HGET', KEYS[1], 'b') or '0')
if tonumber(ARGV[1]) > blocked then
  redis.call('HSET', KEYS[1], 'b', ARGV[1])
  local ttl = redis.call('PTTL', KEYS[1])
  local need = tonumber(ARGV[1]) - tonumber(ARGV[2])
  if ttl < need then redis.call('PEXPIRE', KEYS[1], need) end
end
return 1`;

export class RedisThrottleStore implements ThrottleStore {
  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
  ) {}

  private async call<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw new DependencyUnavailableError('redis', { cause: error });
    }
  }

  async blockedUntil(keys: readonly string[], now: number): Promise<number> {
    const values = await this.call(() =>
      Promise.all(keys.map((key) => this.redis.hget(this.prefix + key, 'b'))),
    );
    const latest = Math.max(0, ...values.map((value) => Number(value ?? 0)));
    return latest > now ? latest : 0;
  }

  async recordFailure(key: string, now: number, resetAfterMs: number): Promise<number> {
    const failures = await this.call(() =>
      this.redis.eval(RECORD_FAILURE, 1, this.prefix + key, now, resetAfterMs),
    );
    return Number(failures);
  }

  async block(key: string, until: number): Promise<void> {
    await this.call(() => this.redis.eval(BLOCK, 1, this.prefix + key, until, Date.now()));
  }

  async clear(key: string): Promise<void> {
    await this.call(() => this.redis.del(this.prefix + key));
  }
}
