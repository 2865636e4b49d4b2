// Cookie sessions in Redis, against a real server on PostgreSQL and Redis: lookups are served from
// Redis, each entry lives exactly as long as its session could, a revocation leaves a tombstone
// there before it answers, and one cached session costs at most 400 bytes of Redis memory.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { validateConfig } from '../../src/config/load.js';
import { ManualClock } from '../../src/core/clock.js';
import { hashSecret } from '../../src/core/random.js';
import { startServer, type RunningServer } from '../../src/server.js';
import {
  baseConfig,
  call,
  cookieLogin,
  freePort,
  schemaDatabaseUrl,
  signUp,
  tokenLogin,
} from '../support/instances.js';
import { createTestSchema, dropTestSchema, queryTestDatabase } from '../support/postgres.js';
import {
  REDIS_TEST_URL,
  deleteRedisKeys,
  randomRedisPrefix,
  scaleSkip,
  withRedis,
} from '../support/redis.js';

const skip = await scaleSkip();
const IDLE_MS = 30 * 60 * 1000;
const ABSOLUTE_MS = 2 * 60 * 60 * 1000;

describe('cookie sessions in Redis', { skip, timeout: 60_000 }, () => {
  let schema = '';
  const prefix = randomRedisPrefix();
  let server: RunningServer | undefined;
  let base = '';
  let clock: ManualClock;

  before(async () => {
    schema = await createTestSchema('lk_scale');
    const port = await freePort();
    const config = validateConfig(
      baseConfig({
        port,
        databaseUrl: schemaDatabaseUrl(schema),
        redisUrl: REDIS_TEST_URL,
        session: { idleTtl: IDLE_MS / 1000, absoluteTtl: ABSOLUTE_MS / 1000 },
      }),
    );
    // Real time to start from (Redis TTLs run on real time); advanced by hand to slide a session.
    clock = new ManualClock(Date.now());
    server = await startServer(config, { redisPrefix: prefix, clock });
    base = server.url;
  });

  after(async () => {
    await server?.close();
    if (schema) await dropTestSchema(schema);
    await deleteRedisKeys(prefix);
  });

  const keyOf = (cookie: string) => `${prefix}s:${hashSecret(cookie)}`;
  const getSession = (cookie: string) => call(base, 'GET', '/v1/session', { cookie });

  it('serves cookie lookups from Redis with a TTL equal to the remaining life', async () => {
    const user = await signUp(base);
    const session = await cookieLogin(base, user.email);
    const key = keyOf(session.cookie);

    assert.equal((await getSession(session.cookie)).status, 200);
    const { value, ttl } = await withRedis(async (redis) => ({
      value: await redis.get(key),
      ttl: await redis.pttl(key),
    }));
    assert.ok(value && value !== '-', 'the first lookup caches the session');
    assert.ok(value.includes(session.sessionId));
    // The session's remaining life is its idle expiry here (the absolute one is further away).
    const remaining = session.expiresAt - clock.now();
    assert.ok(remaining <= IDLE_MS && remaining > IDLE_MS - 5000, `remaining ${remaining}`);
    assert.ok(
      ttl <= remaining && ttl > remaining - 5000,
      `PTTL ${ttl} ms vs remaining life ${remaining} ms`,
    );

    // With the cookie's hash gone from PostgreSQL, only Redis can still recognise it.
    const [row] = await queryTestDatabase<{ secret_hash: string }>(
      'update sessions set secret_hash = null where id = $1 returning $2::text as secret_hash',
      [session.sessionId, hashSecret(session.cookie)],
      schema,
    );
    try {
      const served = await getSession(session.cookie);
      assert.equal(served.status, 200, served.text);
      assert.equal((served.body['session'] as { id: string }).id, session.sessionId);
    } finally {
      await queryTestDatabase(
        'update sessions set secret_hash = $2 where id = $1',
        [session.sessionId, row?.secret_hash],
        schema,
      );
    }
  });

  it('moves the TTL along when the idle expiry slides', async () => {
    const user = await signUp(base);
    const session = await cookieLogin(base, user.email);
    const key = keyOf(session.cookie);
    // Ten idle minutes: the first lookup caches the session with 20 minutes left, then slides it
    // (a use more than a minute after the last one writes a new idle expiry).
    clock.advance(10 * 60 * 1000);
    const slid = await getSession(session.cookie);
    assert.equal(slid.status, 200, slid.text);
    const expiresAt = Date.parse((slid.body['session'] as { expiresAt: string }).expiresAt);
    const remaining = expiresAt - clock.now();
    assert.ok(remaining > IDLE_MS - 5000, `the idle expiry slid (${remaining} ms left)`);
    const ttl = await withRedis((redis) => redis.pttl(key));
    assert.ok(
      ttl <= remaining && ttl > remaining - 5000,
      `PTTL ${ttl} ms vs remaining life ${remaining} ms after the slide`,
    );
  });

  it('tombstones a session in Redis before the revocation answers', async () => {
    const user = await signUp(base);
    const viaLogout = await cookieLogin(base, user.email);
    const viaId = await cookieLogin(base, user.email);
    const pair = await tokenLogin(base, user.email);
    for (const session of [viaLogout, viaId]) {
      assert.equal((await getSession(session.cookie)).status, 200);
    }

    const logout = await call(base, 'DELETE', '/v1/session', {
      cookie: viaLogout.cookie,
      csrf: viaLogout.csrfToken,
    });
    assert.equal(logout.status, 204, logout.text);
    const byId = await call(base, 'DELETE', `/v1/sessions/${viaId.sessionId}`, {
      bearer: pair.access_token,
    });
    assert.equal(byId.status, 204, byId.text);

    for (const session of [viaLogout, viaId]) {
      // Read right after the answer: no waiting, no polling.
      const [value, ttl] = await withRedis(async (redis) => [
        await redis.get(keyOf(session.cookie)),
        await redis.pttl(keyOf(session.cookie)),
      ]);
      assert.equal(value, '-', 'a tombstone replaces the cached session');
      assert.ok(Number(ttl) > 0, 'the tombstone expires');
      assert.equal((await getSession(session.cookie)).status, 401);
    }
  });

  it('keeps a cached cookie session within 400 bytes of Redis memory', async (t) => {
    const user = await signUp(base);
    const sizes: number[] = [];
    for (let i = 0; i < 10; i++) {
      const session = await cookieLogin(base, user.email);
      assert.equal((await getSession(session.cookie)).status, 200);
      const bytes = await withRedis((redis) =>
        redis.call('MEMORY', 'USAGE', keyOf(session.cookie), 'SAMPLES', '0'),
      );
      sizes.push(Number(bytes));
    }
    const largest = Math.max(...sizes);
    t.diagnostic(
      `MEMORY USAGE per cached cookie session: ${largest} bytes at most, ` +
        `${Math.round(sizes.reduce((a, b) => a + b, 0) / sizes.length)} on average ` +
        `(key prefix "${prefix}s:", ${prefix.length + 2} bytes; production's "lk:s:" is shorter)`,
    );
    assert.ok(largest <= 400, `MEMORY USAGE ${largest} bytes > 400`);
  });

  it('is ready with PostgreSQL and Redis up', async () => {
    const ready = await call(base, 'GET', '/readyz');
    assert.equal(ready.status, 200, ready.text);
  });
});
