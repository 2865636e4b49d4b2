// What every scenario gets: the settings, the servers under test (child processes), a client for
// the Latchkey API, a pool of users, and measurement windows. Also the place that starts and
// stops the servers and owns their temporary data directory.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { removeDirOnCleanup } from './cleanup.mjs';
import { startChild } from './children.mjs';
import { createHttpClient } from './http.mjs';
import { BENCH_PASSWORD, latchkeyApi } from './latchkey-api.mjs';
import { cpuWindow, waitForQuiet } from './machine.mjs';
import { DISTURBED_CORES } from './report.mjs';

const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url));

/** Servers a scenario may name in `needs`, and how to start each. */
const SERVERS = {
  ceiling: async () => startChild(join(BENCH_DIR, 'ceiling-server.mjs'), { name: 'ceiling' }),
  latchkey: async (ctx) => {
    const { profileDir } = ctx.settings;
    return startChild(join(BENCH_DIR, 'latchkey-server.mjs'), {
      name: 'latchkey',
      args: [JSON.stringify({ dataDir: latchkeyDataDir(ctx) })],
      execArgv: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
    });
  },
};

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
    api: null,
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
      const args = [JSON.stringify({ ...config, dataDir: latchkeyDataDir(ctx) })];
      return ctx.startChild('latchkey-server.mjs', { name, args });
    },
    /** The first `count` bench users, created on first use; all share BENCH_PASSWORD. */
    async users(count) {
      while (users.length < count) {
        const email = `bench-user-${users.length}@example.com`;
        await ctx.api.signUp(email);
        users.push({ email, password: BENCH_PASSWORD });
      }
      return users.slice(0, count);
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
     * given, and the machine's CPU split into ours and others'. end() resolves both.
     */
    async window(server) {
      if (server) await server.call('windowStart');
      const cpu = cpuWindow(ctx.pids());
      return {
        async end() {
          const machine = cpu.end();
          return { server: server ? await server.call('windowEnd') : null, machine };
        },
      };
    },
    async close() {
      ctx.api?.http.close();
      const all = [...ctx.children, ...Object.values(ctx.servers)];
      await Promise.allSettled(all.map((child) => child.stop()));
      for (const dispose of ctx.disposers.splice(0).reverse()) dispose();
    },
  };
  const users = [];
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
    if (ctx.servers.latchkey) {
      ctx.api = latchkeyApi(createHttpClient(ctx.servers.latchkey.url));
    }
  } catch (error) {
    await ctx.close();
    throw error;
  }
  return ctx;
}
