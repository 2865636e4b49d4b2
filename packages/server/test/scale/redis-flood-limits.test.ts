// The per-address flood limits hold across instances that share Redis: each instance adds its hits
// to the shared count of the window and takes the total back, so a flood spread over instances is
// refused once the total crosses the limit. Against a real Redis; the limiters' exchanges are
// driven by hand where the test needs to know when they happen, and by the servers' own timers
// over HTTP.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { connectRedis, waitForRedis } from '../../src/adapters/redis/connect.js';
import { RedisFloodCounts } from '../../src/adapters/redis/flood-counts.js';
import { validateConfig } from '../../src/config/load.js';
import { ManualClock } from '../../src/core/clock.js';
import { FLOOD_WINDOW_MS, FloodLimiter } from '../../src/http/rate-limit.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { baseConfig, call, freePort } from '../support/instances.js';
import {
  REDIS_TEST_URL,
  deleteRedisKeys,
  randomRedisPrefix,
  redisUnavailable,
  withRedis,
} from '../support/redis.js';

const unavailable = await redisUnavailable();
if (unavailable && process.env['CI'] === 'true') throw new Error(`${unavailable} (CI=true)`);

const LIMITS = { defaultPerMinute: 10, refreshPerMinute: 1_000 };
const IP = '203.0.113.7';
/**
 * The start of the next window: the tests' clocks begin in a known place of a window, and Redis,
 * which expires the counts by its own clock, keeps them while the tests run.
 */
const T0 = Date.now() - (Date.now() % FLOOD_WINDOW_MS) + FLOOD_WINDOW_MS;

describe('flood limits shared through Redis', { skip: unavailable ?? false }, () => {
  const prefix = randomRedisPrefix();
  const connection = connectRedis(REDIS_TEST_URL);
  connection.on('error', () => undefined);
  const closers: Array<() => unknown> = [];
  before(async () => {
    assert.ok(await waitForRedis(connection, 5_000), 'Redis answers');
  });
  after(async () => {
    for (const close of closers) await close();
    await deleteRedisKeys(prefix);
    connection.disconnect();
  });

  /** A limiter as one instance holds it, exchanging only when the test says so. */
  const instance = (clock: ManualClock, shared = new RedisFloodCounts(connection, prefix)) => {
    const limiter = new FloodLimiter(clock, LIMITS, { shared, syncIntervalMs: 3_600_000 });
    closers.push(() => limiter.close());
    return limiter;
  };
  const hits = (limiter: FloodLimiter, count: number, ip = IP) =>
    Array.from({ length: count }, () => limiter.hit('default', ip));

  it('refuses an address once the hits of every instance together cross the limit', async () => {
    const clock = new ManualClock(T0 + 1_000);
    const a = instance(clock);
    const b = instance(clock);

    assert.deepEqual(hits(a, 8), Array(8).fill(0));
    await a.sync();
    assert.equal(b.hit('default', IP), 0, 'B has not heard of A yet: its 1st');
    await b.sync(); // B now knows of 9
    assert.equal(b.hit('default', IP), 0, 'the 10th overall');
    assert.equal(b.hit('default', IP), FLOOD_WINDOW_MS - 1_000, 'the 11th overall is refused');

    // A hears of B's hits at its next exchange.
    assert.equal(a.hit('default', IP), 0, 'A is one exchange late: it counts 9');
    await b.sync();
    await a.sync();
    assert.ok(a.hit('default', IP) > 0, 'A now refuses too');

    // Another address and the refresh rule have counts of their own.
    assert.equal(b.hit('default', '198.51.100.1'), 0);
    assert.equal(b.hit('refresh', IP), 0);
  });

  it('starts every window from zero, and lets Redis forget the last one', async () => {
    const clock = new ManualClock(T0 + 59_000);
    const a = instance(clock);
    const ip = '203.0.113.8';
    hits(a, 11, ip);
    await a.sync();
    assert.ok(a.hit('default', ip) > 0);
    const key = `${prefix}${T0}:d:${ip}`;
    const [count, ttl] = await withRedis((client) =>
      Promise.all([client.get(key), client.pttl(key)]),
    );
    assert.equal(count, '11');
    // Until a window after its own has ended, whatever the clock of the test's Redis host says.
    assert.ok(ttl > 0, `ttl ${ttl}`);
    assert.equal(await withRedis((client) => client.pexpiretime(key)), T0 + 2 * FLOOD_WINDOW_MS);

    clock.advance(1_000); // the next window
    assert.deepEqual(hits(a, 10, ip), Array(10).fill(0));
    await a.sync();
    assert.ok(a.hit('default', ip) > 0);
  });

  it('goes on counting alone while Redis is unreachable', async () => {
    const unreachable = connectRedis(`redis://127.0.0.1:${await freePort()}`);
    unreachable.on('error', () => undefined);
    closers.push(() => unreachable.disconnect());
    const clock = new ManualClock(T0 + 1_000);
    const alone = instance(clock, new RedisFloodCounts(unreachable, prefix));
    const ip = '203.0.113.9';
    assert.deepEqual(hits(alone, 10, ip), Array(10).fill(0));
    await alone.sync(); // fails quietly
    assert.ok(alone.hit('default', ip) > 0, 'its own count still holds the limit');
  });

  it('holds across two servers over HTTP, exchanging on their own', async () => {
    const dirs: string[] = [];
    const servers: RunningServer[] = [];
    closers.push(async () => {
      for (const server of servers) await server.close();
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    });
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-flood-'));
      dirs.push(dataDir);
      const config = baseConfig({
        port,
        issuer: `http://127.0.0.1:${port}`,
        dataDir,
        redisUrl: REDIS_TEST_URL,
        rateLimits: LIMITS,
      });
      servers.push(await startServer(validateConfig(config), { redisPrefix: prefix }));
    }
    const [a, b] = servers.map((server) => server.url) as [string, string];
    // The test takes about two seconds; it must not straddle a window's end.
    const intoWindow = Date.now() % FLOOD_WINDOW_MS;
    if (intoWindow > FLOOD_WINDOW_MS - 5_000) await sleep(FLOOD_WINDOW_MS - intoWindow + 100);

    const me = async (base: string) => (await call(base, 'GET', '/v1/me')).status;
    for (let i = 0; i < 8; i++) assert.equal(await me(a), 401);
    await sleep(750); // A has added its 8
    assert.equal(await me(b), 401);
    await sleep(750); // B has added its 1 and learnt of 9
    assert.equal(await me(b), 401, 'the 10th overall');
    assert.equal(await me(b), 429, 'the 11th overall, on the instance that saw only 3');
  });
});
