// Latchkey under test: startServer() from the compiled package, in its own process, on a free
// loopback port, with the data directory the parent created (and removes). It reports its URL
// over IPC and, on request, measurement windows (event-loop delay, CPU).
//
// argv[2]: JSON of config overrides (validated by validateConfig like a config file).
// argv[3]: JSON of start options: `redisPrefix` (createServices' key prefix) and `isolation`
//          ({ schema, redisPrefix } to drop if the parent disappears; see lib/postgres-redis.mjs).
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { validateConfig } from '../packages/server/dist/src/config/load.js';
import { startServer } from '../packages/server/dist/src/server.js';
import { serveParent } from './lib/child-ipc.mjs';
import { dropIsolationSync } from './lib/postgres-redis.mjs';
import { createServerStats } from './lib/server-stats.mjs';

const overrides = JSON.parse(process.argv[2] ?? '{}');
const startOptions = JSON.parse(process.argv[3] ?? '{}');
if (typeof overrides.dataDir !== 'string') throw new Error('latchkey-server: dataDir is required');

/** A port the kernel just handed out on 127.0.0.1 (another process could still take it). */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

async function start() {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const config = validateConfig({
      logLevel: 'warn',
      ...overrides,
      host: '127.0.0.1',
      port,
      issuer: `http://127.0.0.1:${port}`,
    });
    try {
      const server = await startServer(config, {
        logDestination: process.stderr,
        ...(startOptions.redisPrefix ? { redisPrefix: startOptions.redisPrefix } : {}),
      });
      return { config, server };
    } catch (error) {
      if (error?.code !== 'EADDRINUSE' || attempt >= 5) throw error;
    }
  }
}

const stats = createServerStats();
const { config, server } = await start();

const { ready } = serveParent(
  {
    windowStart: () => stats.windowStart(),
    windowEnd: () => stats.windowEnd(),
    shutdown: () => server.close(),
  },
  // Normally the parent removes the data directory (and schema); if it was killed, nobody else will.
  {
    onParentGone: () => {
      rmSync(overrides.dataDir, { recursive: true, force: true });
      if (startOptions.isolation) dropIsolationSync(startOptions.isolation);
    },
  },
);

ready({
  url: server.url,
  pid: process.pid,
  algorithm: config.tokens.algorithm,
  storage: config.databaseUrl === null ? 'sqlite' : 'postgres',
  redis: config.redisUrl !== null,
  hashConcurrency: config.passwords.hashConcurrency,
  argon2: config.passwords.argon2,
});
