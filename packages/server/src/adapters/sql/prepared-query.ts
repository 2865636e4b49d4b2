// Queries on the hot paths, built by Kysely once and run many times with new values. Building and
// compiling a query costs more than running it: 10 µs for a one-table SELECT, over 100 µs for a
// statement of CTEs (measured on this project's CI machine), against a few µs for SQLite to run
// it. The SQL is still Kysely's, from the same builders and for the dialect at hand; only the
// values change from one run to the next.
import { randomUUID } from 'node:crypto';
import type { Compilable, CompiledQuery, Kysely } from 'kysely';
import type { Database } from './schema.js';

/**
 * Told the SQL of every query prepared, once: the PostgreSQL adapter names these statements so
 * each connection parses and plans them once (see postgres.ts).
 */
export type OnPrepare = (sql: string) => void;

/** Stands for the named value in a query being prepared. */
export type Param<Values> = <K extends keyof Values & string>(name: K) => Values[K];

/** Marks a bound value as a named slot; no value a query is built with can look like it. */
const SLOT_PREFIX = `latchkey-prepared-${randomUUID()}:`;
const slotFor = (name: string) => SLOT_PREFIX + name;

export class PreparedQuery<Values extends object, Row> {
  private readonly compiled: CompiledQuery<Row>;
  /** For each bound parameter in order: the name of its value, or the constant it was built with. */
  private readonly slots: ReadonlyArray<{ readonly name: string } | { readonly constant: unknown }>;

  constructor(build: (param: Param<Values>) => Compilable<Row>, onPrepare?: OnPrepare) {
    this.compiled = build(slotFor as Param<Values>).compile();
    onPrepare?.(this.compiled.sql);
    this.slots = this.compiled.parameters.map((parameter) => {
      return typeof parameter === 'string' && parameter.startsWith(SLOT_PREFIX)
        ? { name: parameter.slice(SLOT_PREFIX.length) }
        : { constant: parameter };
    });
  }

  /** The rows, run on `db` (a transaction or not) with `values` in the named slots. */
  async execute(db: Kysely<Database>, values: Values): Promise<Row[]> {
    const parameters = this.slots.map((slot) =>
      'name' in slot ? (values as Record<string, unknown>)[slot.name] : slot.constant,
    );
    const result = await db.executeQuery<Row>({ ...this.compiled, parameters });
    return result.rows;
  }

  async executeTakeFirst(db: Kysely<Database>, values: Values): Promise<Row | undefined> {
    return (await this.execute(db, values))[0];
  }

  /** The SQL text, for tests. */
  get sql(): string {
    return this.compiled.sql;
  }
}
