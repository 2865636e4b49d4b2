// The transaction retry: PostgreSQL's deadlock victims and serialization failures are tried again,
// a few times at most; every other error surfaces at once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Kysely } from 'kysely';
import type { Database } from '../../src/adapters/sql/schema.js';
import { inTransaction } from '../../src/adapters/sql/transactions.js';

/** A database whose transactions fail with `failures` in turn, then succeed. */
function failingDb(failures: Error[]): { db: Kysely<Database>; attempts: () => number } {
  let attempts = 0;
  const db = {
    transaction: () => ({
      execute: (work: (trx: unknown) => Promise<unknown>) => {
        const failure = failures[attempts++];
        return failure === undefined ? work({}) : Promise.reject(failure);
      },
    }),
  };
  return { db: db as unknown as Kysely<Database>, attempts: () => attempts };
}

const pgError = (code: string) => Object.assign(new Error(`sqlstate ${code}`), { code });

describe('transaction retry', () => {
  it('retries deadlocks and serialization failures, then answers', async () => {
    const { db, attempts } = failingDb([pgError('40P01'), pgError('40001')]);
    assert.equal(await inTransaction(db, () => Promise.resolve('done')), 'done');
    assert.equal(attempts(), 3);
  });

  it('gives up after three attempts with the last error', async () => {
    const { db, attempts } = failingDb([pgError('40P01'), pgError('40P01'), pgError('40001')]);
    await assert.rejects(
      inTransaction(db, () => Promise.resolve('never')),
      /sqlstate 40001/,
    );
    assert.equal(attempts(), 3);
  });

  it('does not retry other errors', async () => {
    for (const failure of [
      pgError('23505'),
      new Error('boom'),
      Object.assign(new Error('numeric code'), { code: 40001 }),
    ]) {
      const { db, attempts } = failingDb([failure]);
      await assert.rejects(inTransaction(db, () => Promise.resolve('never')));
      assert.equal(attempts(), 1);
    }
  });
});
