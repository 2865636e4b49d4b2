// PostgreSQL and Redis for the `postgres-redis` rows: where they are, whether they answer, and a
// throwaway schema and Redis key prefix per run, so the benchmark never touches anyone else's
// data. The same URLs as the test suite (LATCHKEY_TEST_DATABASE_URL, LATCHKEY_TEST_REDIS_URL),
// loopback only.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { onCleanup } from './cleanup.mjs';

export const DATABASE_URL = loopbackUrl(
  process.env.LATCHKEY_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test',
  'LATCHKEY_TEST_DATABASE_URL',
);
export const REDIS_URL = loopbackUrl(
  process.env.LATCHKEY_TEST_REDIS_URL || 'redis://127.0.0.1:6379',
  'LATCHKEY_TEST_REDIS_URL',
);

const DROP_SCRIPT = fileURLToPath(new URL('./drop-isolation.mjs', import.meta.url));
const CONNECT_TIMEOUT_MS = 3000;

/** The benchmark sends traffic to this machine only. */
function loopbackUrl(url, name) {
  const host = URL.canParse(url) ? new URL(url).hostname : '';
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(host)) {
    throw new Error(`${name}: the benchmark uses loopback only, got "${url}"`);
  }
  return url;
}

/** The URL without its password, for messages. */
export function describeUrl(url) {
  const parsed = new URL(url);
  parsed.password = '';
  return parsed.toString();
}

/** A short-lived PostgreSQL client on `url` (DATABASE_URL by default). */
export async function withPostgres(work, url = DATABASE_URL) {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  client.on('error', () => {});
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A Redis connection that fails fast instead of queueing while Redis is away. */
export function connectRedis() {
  const redis = new Redis(REDIS_URL, {
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
    lazyConnect: true,
  });
  redis.on('error', () => {});
  return redis;
}

/** `null` when both answer, else why not (for the report). */
export async function probePostgresRedis() {
  const problems = [];
  try {
    await withPostgres((client) => client.query('select 1'));
  } catch (error) {
    problems.push(`PostgreSQL at ${describeUrl(DATABASE_URL)}: ${error?.message ?? error}`);
  }
  const redis = connectRedis();
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    problems.push(`Redis at ${describeUrl(REDIS_URL)}: ${error?.message ?? error}`);
  } finally {
    redis.disconnect();
  }
  return problems.length === 0 ? null : problems.join('; ');
}

/**
 * A fresh schema and key prefix, and the config that points a Latchkey server at them: the schema
 * through the URL's `options=-c search_path=…` (as an operator would), `application_name` so the
 * server's own connections can be found in pg_stat_activity. Dropped on every exit path.
 */
export async function createIsolation() {
  const name = `lk_bench_${randomBytes(6).toString('hex')}`;
  const isolation = { schema: name, redisPrefix: `${name}:` };
  await withPostgres((client) => client.query(`create schema ${pg.escapeIdentifier(name)}`));
  const url = new URL(DATABASE_URL);
  url.searchParams.set('application_name', name);
  url.searchParams.set('options', `-c search_path=${name}`);
  return {
    ...isolation,
    applicationName: name,
    config: { databaseUrl: url.toString(), redisUrl: REDIS_URL },
    dispose: onCleanup(`drop schema ${name} and Redis keys ${name}:*`, () =>
      dropIsolationSync(isolation),
    ),
  };
}

/**
 * Drops the schema and deletes the keys, synchronously (it also runs from the 'exit' event and
 * from a server child whose parent is gone), by running drop-isolation.mjs to completion.
 */
export function dropIsolationSync({ schema, redisPrefix }) {
  const result = spawnSync(process.execPath, [DROP_SCRIPT, schema, redisPrefix], {
    stdio: ['ignore', 'ignore', 'inherit'],
    timeout: 30_000,
  });
  if (result.status !== 0) {
    process.stderr.write(`bench: cleaning up ${schema} did not finish (status ${result.status})\n`);
  }
}

/** PIDs of the PostgreSQL backends serving connections named `applicationName`. */
export async function backendPids(applicationName) {
  const { rows } = await withPostgres((client) =>
    client.query('select pid from pg_stat_activity where application_name = $1', [applicationName]),
  );
  return rows.map((row) => row.pid);
}

/** The Redis server's PID, when it runs on this machine (INFO server: process_id). */
export async function redisPid(redis) {
  const info = await redis.info('server');
  const pid = Number(/^process_id:(\d+)/m.exec(info)?.[1]);
  return Number.isInteger(pid) ? pid : null;
}
