// PostgreSQL for tests: where it is, whether it answers, and throwaway schemas. Outside CI an
// unreachable server skips the PostgreSQL tests; in CI (CI=true) it fails them.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const TEST_DATABASE_URL =
  process.env['LATCHKEY_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/** The URL without its password, for messages. */
export function describeUrl(url = TEST_DATABASE_URL): string {
  try {
    const parsed = new URL(url);
    parsed.password = '';
    return parsed.toString();
  } catch {
    return 'the configured URL';
  }
}

async function withClient<T>(
  work: (client: pg.Client) => Promise<T>,
  url = TEST_DATABASE_URL,
): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

let probe: Promise<string | null> | undefined;

/** `null` when PostgreSQL answers at the test URL, else why not. Asked once per process. */
export function postgresUnavailable(): Promise<string | null> {
  probe ??= withClient((client) => client.query('select 1')).then(
    () => null,
    (error: unknown) =>
      `PostgreSQL unreachable at ${describeUrl()}: ${error instanceof Error ? error.message : String(error)}`,
  );
  return probe;
}

/**
 * For `describe(name, { skip: await postgresSkip() }, ...)`: a skip message when PostgreSQL is
 * down, `false` when it is up. With CI=true a down PostgreSQL throws instead: CI must not pass by
 * skipping the production engine.
 */
export async function postgresSkip(): Promise<string | false> {
  const reason = await postgresUnavailable();
  if (reason === null) return false;
  if (process.env['CI'] === 'true') throw new Error(`${reason} (CI=true: not skipping)`);
  return reason;
}

/** Throws when PostgreSQL is unreachable: for runs that asked for it explicitly. */
export async function requirePostgres(): Promise<void> {
  const reason = await postgresUnavailable();
  if (reason !== null) throw new Error(reason);
}

export function randomSchemaName(prefix = 'lk_test'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

const quote = (identifier: string) => pg.escapeIdentifier(identifier);

/** Creates an empty schema with a random name and returns the name. */
export async function createTestSchema(prefix?: string): Promise<string> {
  const schema = randomSchemaName(prefix);
  await withClient((client) => client.query(`create schema ${quote(schema)}`));
  return schema;
}

export async function dropTestSchema(schema: string): Promise<void> {
  await withClient((client) => client.query(`drop schema if exists ${quote(schema)} cascade`));
}

/** Runs one statement (with `search_path` set to `schema` when given) on a short-lived connection. */
export async function queryTestDatabase<R extends pg.QueryResultRow = pg.QueryResultRow>(
  text: string,
  values: unknown[] = [],
  schema?: string,
): Promise<R[]> {
  return withClient(async (client) => {
    if (schema !== undefined) await client.query(`set search_path to ${quote(schema)}`);
    return (await client.query<R>(text, values)).rows;
  });
}
