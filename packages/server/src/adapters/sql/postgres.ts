// Production storage: PostgreSQL through the same Kysely code path as SQLite. Many Latchkey
// instances share one database; the atomic operations rely on row locks under READ COMMITTED.
import { Kysely, PostgresDialect, sql } from 'kysely';
import { Pool, types as pgTypes, type CustomTypesConfig } from 'pg';
import { migrateToLatest } from './migrations.js';
import type { Database } from './schema.js';
import { SqlStorage } from './sql-storage.js';

type TypeId = Parameters<typeof pgTypes.getTypeParser>[0];

export interface PostgresOptions {
  /** A `postgres://` or `postgresql://` connection URL. */
  readonly url: string;
  /**
   * The schema to use instead of the URL's search path (tests use a random one). A plain lower-case
   * identifier; the migrations create it when it does not exist.
   */
  readonly schema?: string;
  readonly migrate?: boolean;
  /** Connections in the pool; 10 by default. */
  readonly poolSize?: number;
}

const INT8_OID = 20;
const INT8_ARRAY_OID = 1016;
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** BIGINT (times in milliseconds, serial IDs) as a JS number; never a silently rounded one. */
function parseInt8(value: string): number {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed)) throw new RangeError(`BIGINT ${value} is beyond 2^53`);
  return parsed;
}

function parseInt8Array(value: string): number[] {
  // pg-types' own BIGINT[] parser, which yields strings; its TypeId enum does not list the OID.
  const parse = pgTypes.getTypeParser(INT8_ARRAY_OID as TypeId, 'text') as (v: string) => string[];
  return parse(value).map(parseInt8);
}

// Passed to this pool only: pg's global type registry stays untouched for other users of `pg`.
const latchkeyTypes: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (format !== 'binary') {
      if (oid === INT8_OID) return parseInt8;
      if (oid === INT8_ARRAY_OID) return parseInt8Array;
    }
    return pgTypes.getTypeParser(oid, format) as (value: string) => unknown;
  }) as CustomTypesConfig['getTypeParser'],
};

/**
 * The connection string and startup `options` for a pool pinned to `schema`. pg lets the URL's own
 * `options` parameter override the config's, so an `options` in the URL is merged here, not lost.
 */
function pinSchema(url: string, schema: string): { connectionString: string; options: string } {
  if (!SCHEMA_NAME.test(schema)) {
    throw new Error(`schema: "${schema}" is not a plain lower-case identifier`);
  }
  const parsed = new URL(url);
  const fromUrl = parsed.searchParams.get('options');
  parsed.searchParams.delete('options');
  const options = [fromUrl, `-c search_path=${schema}`].filter(Boolean).join(' ');
  return { connectionString: parsed.toString(), options };
}

export async function openPostgresStorage(options: PostgresOptions): Promise<SqlStorage> {
  const connection =
    options.schema === undefined
      ? { connectionString: options.url }
      : pinSchema(options.url, options.schema);
  const pool = new Pool({
    ...connection,
    max: options.poolSize ?? 10,
    types: latchkeyTypes,
    fallback_application_name: 'latchkey',
    // Fail a request (and readiness) instead of waiting forever for an unreachable database.
    connectionTimeoutMillis: 10_000,
  });
  // An idle connection that dies (database restart, network) is dropped from the pool and the next
  // query opens a fresh one; without a listener the error event would end the process.
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  if (options.migrate !== false) {
    try {
      // Kysely looks for its migration table in every schema unless told which one, so another
      // schema's table (another tenant, a parallel test) would be taken for ours.
      const schema = options.schema ?? (await currentSchema(db));
      await migrateToLatest(db as Kysely<unknown>, 'postgres', { migrationTableSchema: schema });
    } catch (error) {
      // A refused or failed migration must not leave the pool open behind it.
      await db.destroy();
      throw error;
    }
  }
  return new SqlStorage(db);
}

async function currentSchema(db: Kysely<Database>): Promise<string> {
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(
    db,
  );
  const schema = rows[0]?.schema;
  if (!schema) throw new Error('databaseUrl: the search path names no existing schema');
  return schema;
}
