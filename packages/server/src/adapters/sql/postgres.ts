// Production storage: PostgreSQL through the same Kysely code path as SQLite. Many Latchkey
// instances share one database; the atomic operations rely on row locks under READ COMMITTED.
import { Kysely, PostgresDialect, sql } from 'kysely';
import { createHash } from 'node:crypto';
import {
  Pool,
  types as pgTypes,
  type Client,
  type CustomTypesConfig,
  type PoolClient,
  type PoolConfig,
} from 'pg';
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
  /**
   * Milliseconds a statement may run, lock waits included, before PostgreSQL cancels it and the
   * request fails with 503; also how long a transaction may sit idle. 0: no limit. 5,000 by default.
   */
  readonly statementTimeoutMs?: number;
}

const DEFAULT_STATEMENT_TIMEOUT_MS = 5_000;
/**
 * How much longer than the statement timeout this side waits for an answer before it gives the
 * connection up. PostgreSQL's own cancellation normally answers first; this catches a database or
 * network that has stopped answering altogether, where nothing would ever arrive.
 */
const UNANSWERED_MARGIN_MS = 2_000;

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
  const baseConfig: PoolConfig = {
    ...connection,
    types: latchkeyTypes,
    fallback_application_name: 'latchkey',
    // Fail a request (and readiness) instead of waiting forever for an unreachable database.
    connectionTimeoutMillis: 10_000,
    // Let the kernel notice a peer that vanished without closing the connection.
    keepAlive: true,
  };
  if (options.migrate !== false) {
    // Migrations run on a connection of their own, without the timeouts below: a migration on a
    // large table may rightly take longer than a request may wait. So does pruning (below).
    await migrate(openPool({ ...baseConfig, max: 1 }), options.schema);
  }
  const statementNames = new Map<string, string>();
  const pool = openPool(
    {
      ...baseConfig,
      ...requestTimeouts(options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS),
      max: options.poolSize ?? 10,
    },
    (client) => {
      nameStatements(client, statementNames);
      dropWhenUnanswered(client);
    },
  );
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const onPrepare = (text: string) => {
    statementNames.set(
      text,
      `latchkey_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`,
    );
  };
  // Pruning runs on a pool of its own, without the timeouts: one connection, opened every few
  // minutes for the prune and closed when idle.
  const maintenanceDb = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: openPool({ ...baseConfig, max: 1 }) }),
  });
  return failClosed(new SqlStorage(db, { dialect: 'postgres', onPrepare, maintenanceDb }));
}

/** A pool that drops dead connections instead of letting their errors end the process. */
function openPool(config: PoolConfig, onConnect?: (client: PoolClient) => void): Pool {
  const pool = new Pool(config);
  // An idle connection that dies (database restart, network) is dropped from the pool and the next
  // query opens a fresh one; without a listener the error event would end the process.
  pool.on('error', () => undefined);
  // The same for a connection that dies while checked out between two queries (inside a
  // transaction, say): the pool listens only to idle ones. The query in flight fails on its own,
  // and the pool discards the dead connection when it comes back.
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
    onConnect?.(client);
  });
  return pool;
}

/** Applies the migrations through `pool`, then closes it. */
async function migrate(pool: Pool, schema: string | undefined): Promise<void> {
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    // Kysely looks for its migration table in every schema unless told which one, so another
    // schema's table (another tenant, a parallel test) would be taken for ours.
    const migrationTableSchema = schema ?? (await currentSchema(db));
    await migrateToLatest(db as Kysely<unknown>, 'postgres', { migrationTableSchema });
  } finally {
    await db.destroy();
  }
}

/**
 * The pool settings that bound how long a request can wait on the database. PostgreSQL enforces
 * the first two, so a statement stuck behind a lock is cancelled (freeing its connection) and a
 * transaction left open by a frozen instance releases its locks; pg enforces the third.
 */
function requestTimeouts(statementTimeoutMs: number): PoolConfig {
  if (statementTimeoutMs === 0) return {};
  return {
    statement_timeout: statementTimeoutMs,
    idle_in_transaction_session_timeout: statementTimeoutMs,
    query_timeout: statementTimeoutMs + UNANSWERED_MARGIN_MS,
  };
}

/**
 * After pg's own read timeout the connection still waits for the answer it gave up on, and every
 * later query on it would queue behind that. The socket is closed instead, so the pool discards
 * the connection and the next request gets a fresh one.
 */
function dropWhenUnanswered(client: PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  client.query = ((...args: unknown[]) => {
    const result = query(...args);
    if (!(result instanceof Promise)) return result;
    return result.catch((error: unknown) => {
      if (error instanceof Error && error.message === READ_TIMEOUT_MESSAGE) {
        // A pool client is a Client at run time; @types/pg leaves `connection` off PoolClient.
        (client as unknown as Client).connection.stream.destroy();
      }
      throw error;
    });
  }) as PoolClient['query'];
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

/** What pg's query_timeout rejects with. */
const READ_TIMEOUT_MESSAGE = 'Query read timeout';
/**
 * SQLSTATEs meaning "the database cannot be reached, is going away, or did not answer in time",
 * not "this query is wrong": connection exceptions (08), shutdown (57P01-3), too many connections
 * (53300), a statement cancelled by statement_timeout (57014) or lock_timeout (55P03), and a
 * transaction ended by idle_in_transaction_session_timeout (25P03).
 */
const UNAVAILABLE_SQLSTATE = /^(08|57P0[1-3]$|53300$|57014$|55P03$|25P03$)/;
const UNAVAILABLE_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
]);
/** What pg and Kysely say when the connection broke or stopped answering (these carry no code). */
const UNAVAILABLE_MESSAGE =
  /connection terminated|not queryable|timeout exceeded when trying to connect|connection has been discarded|query read timeout/i;

function isUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (
    typeof code === 'string' &&
    (UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_ERRNOS.has(code))
  ) {
    return true;
  }
  return UNAVAILABLE_MESSAGE.test(error.message);
}

/**
 * The storage with lost connections and unanswered statements reported as
 * DependencyUnavailableError, so a request fails closed with 503 `service_unavailable` (retry)
 * rather than a 500 or an endless wait. A transaction cut off this way was rolled back by
 * PostgreSQL, or committed just before: the operations are written so a retry of either is safe (a retried refresh gets the same successor within the grace window).
 */
function failClosed(storage: SqlStorage): SqlStorage {
  // By function, not by name: a method replaced on the instance gets a wrapper of its own.
  const wrapped = new WeakMap<object, unknown>();
  const translate = (error: unknown): never => {
    throw isUnavailable(error)
      ? new DependencyUnavailableError('database', { cause: error })
      : error;
  };
  return new Proxy(storage, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      let method = wrapped.get(value);
      if (method === undefined) {
        method = (...args: unknown[]): unknown => {
          const result: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
          return result instanceof Promise ? result.catch(translate) : result;
        };
        wrapped.set(value, method);
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
