// Transactions that survive PostgreSQL's deadlock and serialization victims.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.js';

/** PostgreSQL's serialization failure and deadlock: the transaction was rolled back, try again. */
const RETRYABLE_SQLSTATES = new Set(['40001', '40P01']);
const TRANSACTION_ATTEMPTS = 3;

function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && RETRYABLE_SQLSTATES.has(code);
}

/**
 * Runs `attempt` again (up to three attempts in all, after a short random pause) when PostgreSQL
 * aborts it as a deadlock victim or serialization failure. `attempt` must be one transaction or
 * one statement: a rolled-back attempt leaves no trace.
 */
export async function retryingVictims<T>(attempt: () => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      if (tries >= TRANSACTION_ATTEMPTS || !isRetryable(error)) throw error;
      await sleep(tries * (5 + Math.random() * 20));
    }
  }
}

/** `work` in a transaction, retried as retryingVictims says; `work` must do nothing outside it. */
export function inTransaction<T>(
  db: Kysely<Database>,
  work: (trx: Transaction<Database>) => Promise<T>,
): Promise<T> {
  return retryingVictims(() => db.transaction().execute(work));
}
