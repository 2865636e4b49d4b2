// Production storage: PostgreSQL through the same Kysely code path as SQLite. Many Latchkey
// instances share one database; the atomic operations rely on row locks under READ COMMITTED.
import { Kysely, PostgresDialect, sql } from 'kysely';
import { createHash } from 'node:crypto';
import { Pool, types as pgTypes, type CustomTypesConfig, type PoolClient } from 'pg';
import { DependencyUnavailableError } from '../../core/errors.js';
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
  const statementNames = new Map<string, string>();
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
  // The same for a connection that dies while checked out between two queries (inside a
  // transaction, say): the pool listens only to idle ones. The query in flight fails on its own,
  // and the pool discards the dead connection when it comes back.
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
    nameStatements(client, statementNames);
  });
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
  const onPrepare = (text: string) => {
    statementNames.set(
      text,
      `latchkey_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`,
    );
  };
  return failClosed(new SqlStorage(db, { dialect: 'postgres', onPrepare }));
}

/**
 * The hot queries (prepared-query.ts) run as named statements: PostgreSQL parses each once per
 * connection and may then keep its plan, instead of parsing and planning the text on every call
 * (the rotation statement alone has five CTEs). Kysely hands pg the SQL text and values; a text
 * registered in `names` goes out under its name. Other queries stay unnamed, so statements whose
 * text varies (IN lists) never pile up on a connection.
 */
function nameStatements(client: PoolClient, names: ReadonlyMap<string, string>): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  client.query = ((config: unknown, values?: unknown, callback?: unknown) => {
    const name =
      typeof config === 'string' && callback === undefined ? names.get(config) : undefined;
    if (name !== undefined) return query({ name, text: config, values });
    return callback === undefined ? query(config, values) : query(config, values, callback);
  }) as PoolClient['query'];
}

/** SQLSTATEs meaning "the database cannot be reached or is going away", not "this query failed". */
const CONNECTION_SQLSTATE = /^(08|57P0[1-3]$|53300$)/;
const CONNECTION_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
]);
/** What pg and Kysely say when the connection itself broke (these carry no code). */
const CONNECTION_MESSAGE =
  /connection terminated|not queryable|timeout exceeded when trying to connect|connection has been discarded/i;

function isConnectionFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (CONNECTION_SQLSTATE.test(code) || CONNECTION_ERRNOS.has(code))) {
    return true;
  }
  return CONNECTION_MESSAGE.test(error.message);
}

/**
 * The storage with lost connections reported as DependencyUnavailableError, so a request fails
 * closed with 503 `service_unavailable` (retry) rather than a 500. A transaction cut off this way
 * was rolled back by PostgreSQL, or committed just before: the operations are written so a retry
 * of either is safe (a retried refresh gets the same successor within the grace window).
 */
function failClosed(storage: SqlStorage): SqlStorage {
  const wrapped = new Map<PropertyKey, unknown>();
  const translate = (error: unknown): never => {
    throw isConnectionFailure(error)
      ? new DependencyUnavailableError('database', { cause: error })
      : error;
  };
  return new Proxy(storage, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      let method = wrapped.get(property);
      if (method === undefined) {
        method = (...args: unknown[]): unknown => {
          const result: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
          return result instanceof Promise ? result.catch(translate) : result;
        };
        wrapped.set(property, method);
      }
      return method;
    },
  });
}

async function currentSchema(db: Kysely<Database>): Promise<string> {
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(
    db,
  );
  const schema = rows[0]?.schema;
  if (!schema) throw new Error('databaseUrl: the search path names no existing schema');
  return schema;
}
