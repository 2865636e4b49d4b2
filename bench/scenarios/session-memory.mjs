// Row: the Redis memory one cookie session takes in the session cache. Logs in SESSIONS cookie
// sessions (POST /v1/session, client `web`, spread over a few users), uses each cookie once
// (GET /v1/me, which is what puts a session in the cache), then asks Redis `MEMORY USAGE` of each
// session's key: `<prefix>s:<SHA-256 of the cookie value, base64url>` (adapters/redis). The value
// is the median in bytes; the detail has the spread, the key and value lengths and the TTL left.
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { expectStatus } from '../lib/latchkey-api.mjs';
import { connectRedis } from '../lib/postgres-redis.mjs';
import { median, percentile } from '../lib/stats.mjs';
import { mapLimit } from './shared.mjs';
import { POSTGRES_REDIS } from './storages.mjs';

const SESSIONS = 1000;
const USERS = 10;
const LOGINS_IN_FLIGHT = 8;

const sessionKey = (prefix, cookieValue) =>
  `${prefix}s:${createHash('sha256').update(cookieValue).digest('base64url')}`;

export default {
  id: 'pg-session-memory',
  storage: POSTGRES_REDIS.id,
  schedule: 'once',
  needs: [POSTGRES_REDIS.server],

  async measure(ctx) {
    const api = ctx.apiFor(POSTGRES_REDIS.server);
    const users = await ctx.users(USERS, POSTGRES_REDIS.server);
    const started = performance.now();
    const cookies = await mapLimit(SESSIONS, LOGINS_IN_FLIGHT, async (i) => {
      const { pair } = await api.sessionCookie(users[i % USERS].email);
      expectStatus(await api.meWith({ cookie: pair }), 200, 'GET /v1/me with a new session');
      return pair.slice(pair.indexOf('=') + 1);
    });
    const loginSeconds = (performance.now() - started) / 1000;

    const redis = connectRedis();
    try {
      await redis.connect();
      const keys = cookies.map((value) => sessionKey(ctx.isolation.redisPrefix, value));
      const pipeline = redis.pipeline();
      for (const key of keys) {
        pipeline.memory('USAGE', key, 'SAMPLES', '0');
        pipeline.strlen(key);
        pipeline.pttl(key);
      }
      const replies = await pipeline.exec();
      const value = (index) => {
        const [error, result] = replies[index];
        if (error) throw error;
        return result;
      };
      const bytes = [];
      const valueLengths = [];
      const ttls = [];
      for (let i = 0; i < keys.length; i++) {
        const usage = value(i * 3);
        if (usage === null) throw new Error(`session key ${keys[i]} is not in Redis`);
        bytes.push(usage);
        valueLengths.push(value(i * 3 + 1));
        ttls.push(value(i * 3 + 2));
      }
      return {
        sessions: keys.length,
        loginSeconds,
        bytes,
        keyLength: Buffer.byteLength(keys[0]),
        valueLengths,
        ttlSeconds: ttls.map((ms) => ms / 1000),
      };
    } finally {
      redis.disconnect();
    }
  },

  describe: (run) => `${run.sessions} sessions, median ${median(run.bytes)} B each in Redis`,

  rows(runs) {
    const [run] = runs;
    const days = (seconds) => (seconds / 86_400).toFixed(1);
    return [
      {
        id: 'pg-session-memory.bytes',
        label: `Redis memory per cookie session, PostgreSQL+Redis (MEMORY USAGE of ${run.sessions} session keys)`,
        unit: 'B',
        value: median(run.bytes),
        perRun: [median(run.bytes)],
        detail:
          `min ${Math.min(...run.bytes)} B, p99 ${percentile(run.bytes, 99)} B, max ${Math.max(...run.bytes)} B; ` +
          `key ${run.keyLength} B, value ${median(run.valueLengths)} B; ` +
          `TTL left ${days(median(run.ttlSeconds))} d (the session's idle or absolute expiry, whichever comes first); ` +
          `${run.sessions} logins + first uses took ${run.loginSeconds.toFixed(1)} s`,
        errors: 0,
        goal: { op: '<=', target: 400 },
      },
    ];
  },
};
