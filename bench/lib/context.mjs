// What every scenario gets: the settings, the servers under test (child processes), a client for
// the Latchkey API of each, a pool of users on each, and measurement windows. Also the place that
// starts and stops the servers and owns their temporary data directory, PostgreSQL schema and
// Redis key prefix.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { removeDirOnCleanup } from './cleanup.mjs';
import { startChild } from './children.mjs';
import { createHttpClient } from './http.mjs';
import { BENCH_PASSWORD, latchkeyApi } from './latchkey-api.mjs';
import { cpuWindow, waitForQuiet } from './machine.mjs';
import { backendPids, connectRedis, createIsolation, redisPid } from './postgres-redis.mjs';
import { DISTURBED_CORES } from './report.mjs';

const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url));

/** The resource-server credential (revocation feed) every Latchkey server of the benchmark accepts. */
export const BENCH_RESOURCE_SERVER = {
  id: 'bench-resource-server',
  secret: 'latchkey-bench-resource-server-secret-4f9a2c7e',
};

/**
 * Config every Latchkey server of the benchmark gets. All load comes from 127.0.0.1, so the
 * per-address limits are set out of reach: flood limits, sign-ups, and failed logins per address
 * and per account+address (at their maximum; login-timing makes hundreds of failed logins). The
 * limiter and the throttle still count every request; the per-account hard limit keeps its
 * default (login-timing moves to a fresh account when it answers 429). Resource servers
 * (resource-server.mjs) follow the revocation feed with BENCH_RESOURCE_SERVER.
 */
const BENCH_CONFIG = {
  rateLimits: { refreshPerMinute: 10_000_000, defaultPerMinute: 10_000_000 },
  throttle: { signupsPerIpPerHour: 1_000_000, ipFreeFailures: 100_000, accountFreeFailures: 100 },
  resourceServers: [BENCH_RESOURCE_SERVER],
};

/** With --profile, a Latchkey server writes a V8 CPU profile when it stops. */
const profilerFlags = (ctx) =>
  ctx.settings.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${ctx.settings.profileDir}`] : [];

/** Servers a scenario may name in `needs`, and how to start each. */
const SERVERS = {
  ceiling: async () => startChild(join(BENCH_DIR, 'ceiling-server.mjs'), { name: 'ceiling' }),
  latchkey: async (ctx) =>
    startChild(join(BENCH_DIR, 'latchkey-server.mjs'), {
      name: 'latchkey',
      args: [JSON.stringify({ ...BENCH_CONFIG, dataDir: latchkeyDataDir(ctx) })],
      execArgv: profilerFlags(ctx),
    }),
  // The same server on PostgreSQL (a fresh schema) with Redis (a fresh key prefix): the session
  // cache and revocation fan-out of a production deployment.
  'latchkey-pg': async (ctx) => {
    const isolation = await createIsolation();
    ctx.disposers.push(isolation.dispose);
    ctx.isolation = isolation;
    const { schema, redisPrefix } = isolation;
    const server = await startChild(join(BENCH_DIR, 'latchkey-server.mjs'), {
      name: 'latchkey-pg',
      args: [
        JSON.stringify({ ...BENCH_CONFIG, ...isolation.config, dataDir: latchkeyDataDir(ctx) }),
        JSON.stringify({ redisPrefix, isolation: { schema, redisPrefix } }),
      ],
      execArgv: profilerFlags(ctx),
    });
    if (server.info.storage !== 'postgres' || !server.info.redis) {
      throw new Error('latchkey-pg: the server did not start on PostgreSQL with Redis');
    }
    return server;
  },
};

/** Servers whose work is partly done by other processes: PostgreSQL backends and Redis. */
async function dependencyPids(ctx, server) {
  if (server !== ctx.servers['latchkey-pg'] || !ctx.isolation) return null;
  ctx.redis ??= connectRedis();
  if (ctx.redis.status === 'wait') await ctx.redis.connect();
  ctx.redisPid ??= await redisPid(ctx.redis);
  return {
    postgres: await backendPids(ctx.isolation.applicationName),
    redis: ctx.redisPid === null ? [] : [ctx.redisPid],
  };
}

/** A fresh temporary data directory, removed when the context closes (or on any exit). */
function latchkeyDataDir(ctx) {
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-bench-'));
  ctx.disposers.push(removeDirOnCleanup(dataDir));
  return dataDir;
}

export async function createContext({ settings, needs, log }) {
  const ctx = {
    settings,
    log,
    benchDir: BENCH_DIR,
    servers: {},
    disposers: [],
    /** The API client of the `latchkey` server (SQLite); apiFor(name) for the others. */
    api: null,
    apis: {},
    /** The PostgreSQL schema and Redis prefix of `latchkey-pg`, once started. */
    isolation: null,
    /** A Redis connection of the benchmark's own (lib/postgres-redis.mjs), opened on first use. */
    redis: null,
    children: new Set(),
    /** Starts an extra child (e.g. a microbenchmark); stopped with the context if still running. */
    async startChild(script, options) {
      const child = await startChild(join(BENCH_DIR, script), options);
      ctx.children.add(child);
      return child;
    },
    /**
     * An extra Latchkey server with config overrides (e.g. `{ tokens: { algorithm: 'ES256' } }`)
     * on its own data directory; stop() it when done (the context stops it otherwise).
     */
    async startLatchkey(name, config = {}) {
      const args = [JSON.stringify({ ...BENCH_CONFIG, ...config, dataDir: latchkeyDataDir(ctx) })];
      return ctx.startChild('latchkey-server.mjs', { name, args });
    },
    /** The API client of server `name` ('latchkey', 'latchkey-pg'). */
    apiFor(name) {
      const api = ctx.apis[name];
      if (!api) throw new Error(`no Latchkey server "${name}" is running`);
      return api;
    },
    /**
     * The first `count` bench users of server `name`, created on first use; all share
     * BENCH_PASSWORD.
     */
    async users(count, name = 'latchkey') {
      const pool = (users[name] ??= []);
      while (pool.length < count) {
        const email = `bench-user-${pool.length}@example.com`;
        await ctx.apiFor(name).signUp(email);
        pool.push({ email, password: BENCH_PASSWORD });
      }
      return pool.slice(0, count);
    },
    /**
     * Before a measurement: waits (within the run's budget) until other processes on this shared
     * machine use at most DISTURBED_CORES, and at least one sample long so queues drain.
     */
    async quiet() {
      const maxWaitMs = Math.min(settings.maxQuietWaitSeconds * 1000, quietBudgetMs);
      const result = await waitForQuiet({
        pids: ctx.pids(),
        thresholdCores: DISTURBED_CORES,
        maxWaitMs,
      });
      quietBudgetMs -= result.waitedMs;
      return result;
    },
    /** PIDs of this process and of every child it started. */
    pids() {
      const pids = [process.pid, ...Object.values(ctx.servers).map((s) => s.pid)];
      for (const child of ctx.children) pids.push(child.pid);
      return pids;
    },
    /**
     * Opens a measurement window: the server's own stats (event-loop delay, CPU) if `server` is
     * given, and the machine's CPU split into ours and others'. end() resolves both. For
     * `latchkey-pg`, the CPU of its PostgreSQL backends and of Redis counts as ours and is also
     * reported on its own (`dependencies`: cores of each).
     */
    async window(server) {
      const dependencies = server ? await dependencyPids(ctx, server) : null;
      if (server) await server.call('windowStart');
      const extra = dependencies ? [...dependencies.postgres, ...dependencies.redis] : [];
      const cpu = cpuWindow([...ctx.pids(), ...extra]);
      const postgresCpu = dependencies && cpuWindow(dependencies.postgres);
      const redisCpu = dependencies && cpuWindow(dependencies.redis);
      return {
        async end() {
          const machine = cpu.end();
          const result = { server: server ? await server.call('windowEnd') : null, machine };
          if (dependencies) {
            result.dependencies = {
              postgresBackends: dependencies.postgres.length,
              postgresCores: postgresCpu.end()?.oursCores ?? null,
              redisCores: redisCpu.end()?.oursCores ?? null,
            };
          }
          return result;
        },
      };
    },
    async close() {
      for (const api of Object.values(ctx.apis)) api.http.close();
      ctx.redis?.disconnect();
      const all = [...ctx.children, ...Object.values(ctx.servers)];
      await Promise.allSettled(all.map((child) => child.stop()));
      for (const dispose of ctx.disposers.splice(0).reverse()) dispose();
    },
  };
  const users = {};
  let quietBudgetMs = settings.quietBudgetSeconds * 1000;

  try {
    const names = [...new Set(needs)];
    for (const name of names) {
      if (!SERVERS[name]) throw new Error(`unknown server "${name}"`);
    }
    const started = await Promise.allSettled(names.map((name) => SERVERS[name](ctx)));
    names.forEach((name, i) => {
      const { status, value } = started[i];
      if (status !== 'fulfilled') return;
      ctx.servers[name] = value;
      log(`${name} server: ${value.url} (pid ${value.pid})`);
    });
    const failure = started.find((s) => s.status === 'rejected');
    if (failure) throw failure.reason;
    for (const name of ['latchkey', 'latchkey-pg']) {
      const server = ctx.servers[name];
      if (server) ctx.apis[name] = latchkeyApi(createHttpClient(server.url));
    }
    ctx.api = ctx.apis.latchkey ?? null;
  } catch (error) {
    await ctx.close();
    throw error;
  }
  return ctx;
}
