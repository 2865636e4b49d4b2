// `node bench/lib/drop-isolation.mjs SCHEMA PREFIX`: drops one benchmark schema (CASCADE) and
// deletes the Redis keys under one prefix. Run to completion by dropIsolationSync(), so cleanup
// also works where only synchronous code may run. Refuses names the benchmark did not make.
import pg from 'pg';
import { connectRedis, withPostgres } from './postgres-redis.mjs';

const [schema, prefix] = process.argv.slice(2);
const NAME = /^lk_bench_[0-9a-f]{12}$/;
if (!NAME.test(schema ?? '') || prefix !== `${schema}:`) {
  process.stderr.write(`drop-isolation: refusing "${schema}" / "${prefix}"\n`);
  process.exit(2);
}

let failed = false;
try {
  await withPostgres(async (client) => {
    // A backend of a killed server may still hold a lock for a moment; never wait forever.
    await client.query("set lock_timeout = '10s'");
    await client.query(`drop schema if exists ${pg.escapeIdentifier(schema)} cascade`);
  });
} catch (error) {
  failed = true;
  process.stderr.write(`drop-isolation: schema ${schema}: ${error?.message ?? error}\n`);
}

const redis = connectRedis();
try {
  await redis.connect();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
} catch (error) {
  failed = true;
  process.stderr.write(`drop-isolation: Redis keys ${prefix}*: ${error?.message ?? error}\n`);
} finally {
  redis.disconnect();
}
process.exit(failed ? 1 : 0);
