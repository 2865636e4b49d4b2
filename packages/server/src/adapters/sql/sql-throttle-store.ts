// Throttle counters in the database: one row per key, updated by a single upsert so concurrent
// failures on several instances are all counted.
import { sql, type Kysely } from 'kysely';
import type { ThrottleStore } from '../../ports/throttle.js';
import type { Database } from './schema.js';

export class SqlThrottleStore implements ThrottleStore {
  constructor(private readonly db: Kysely<Database>) {}

  async blockedUntil(keys: readonly string[], now: number): Promise<number> {
    if (keys.length === 0) return 0;
    const row = await this.db
      .selectFrom('throttles')
      .select((eb) => eb.fn.max('blocked_until').as('until'))
      .where('key', 'in', keys)
      .where('blocked_until', '>', now)
      .executeTakeFirst();
    return row?.until == null ? 0 : Number(row.until);
  }

  async recordFailure(key: string, now: number, resetAfterMs: number): Promise<number> {
    const row = await this.db
      .insertInto('throttles')
      .values({ key, failures: 1, last_failure_at: now, blocked_until: 0 })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet({
          failures: sql<number>`case when throttles.last_failure_at < ${now - resetAfterMs} then 1 else throttles.failures + 1 end`,
          last_failure_at: now,
        }),
      )
      .returning('failures')
      .executeTakeFirstOrThrow();
    return Number(row.failures);
  }

  async block(key: string, until: number): Promise<void> {
    await this.db
      .updateTable('throttles')
      .set({ blocked_until: until })
      .where('key', '=', key)
      .where('blocked_until', '<', until)
      .execute();
  }

  async clear(key: string): Promise<void> {
    await this.db.deleteFrom('throttles').where('key', '=', key).execute();
  }

  /** Rows with no failure for a day and no block left are noise. */
  async prune(now: number, idleMs: number): Promise<void> {
    await this.db
      .deleteFrom('throttles')
      .where('last_failure_at', '<', now - idleMs)
      .where('blocked_until', '<', now)
      .execute();
  }
}
