// The SQLite adapter against the storage conformance suite, in memory and on disk, plus the
// migration rules: applied once, and a database from a newer Latchkey is refused.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import SQLite from 'better-sqlite3';
import { KNOWN_MIGRATIONS } from '../../src/adapters/sql/migrations.js';
import { openSqliteStorage } from '../../src/adapters/sql/sqlite.js';
import { runStorageConformance } from '../../src/ports/conformance.js';

runStorageConformance('SQLite in memory', {
  open: () => openSqliteStorage({ dataDir: ':memory:' }),
});

let fileDir: string | undefined;
runStorageConformance('SQLite file', {
  async open() {
    fileDir = await mkdtemp(join(tmpdir(), 'latchkey-conformance-'));
    return openSqliteStorage({ dataDir: fileDir });
  },
});
// Runs after the suite above has closed its store.
after(async () => {
  if (fileDir !== undefined) await rm(fileDir, { recursive: true, force: true });
});

describe('SQLite migrations', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'latchkey-migrations-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  function migrationRows(dataDir: string): { name: string }[] {
    const db = new SQLite(join(dataDir, 'latchkey.db'), { readonly: true });
    try {
      return db.prepare('select name from kysely_migration order by name').all() as {
        name: string;
      }[];
    } finally {
      db.close();
    }
  }

  const user = {
    id: 'usr_migrations',
    email: 'migrations@example.test',
    passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
    roles: ['admin'],
    status: 'active' as const,
    epoch: 0,
    createdAt: Date.UTC(2026, 0, 1),
  };

  it('creates the database file in the data directory with every migration recorded', async () => {
    const dataDir = join(dir, 'fresh', 'nested');
    const storage = await openSqliteStorage({ dataDir });
    await storage.close();
    assert.ok(existsSync(join(dataDir, 'latchkey.db')));
    assert.deepEqual(
      migrationRows(dataDir).map((r) => r.name),
      [...KNOWN_MIGRATIONS].sort(),
    );
  });

  it('applies migrations once: reopening keeps the data and records nothing new', async () => {
    const dataDir = join(dir, 'twice');
    const first = await openSqliteStorage({ dataDir });
    assert.ok(await first.createUser(user));
    await first.close();
    const rowsAfterFirst = migrationRows(dataDir);

    const second = await openSqliteStorage({ dataDir });
    try {
      assert.deepEqual((await second.findUserById(user.id))?.roles, ['admin']);
      assert.equal(await second.createUser({ ...user, id: 'usr_other' }), null);
    } finally {
      await second.close();
    }
    assert.deepEqual(migrationRows(dataDir), rowsAfterFirst);
    assert.equal(rowsAfterFirst.length, KNOWN_MIGRATIONS.length);
  });

  it('refuses a database migrated by a newer Latchkey, and leaves it untouched', async () => {
    const dataDir = join(dir, 'newer');
    const storage = await openSqliteStorage({ dataDir });
    assert.ok(await storage.createUser(user));
    await storage.close();
    const newest = [...KNOWN_MIGRATIONS].sort().at(-1)!;
    const future = `9999_from_the_future`;
    assert.ok(future > newest);
    const db = new SQLite(join(dataDir, 'latchkey.db'));
    db.prepare('insert into kysely_migration (name, timestamp) values (?, ?)').run(
      future,
      new Date().toISOString(),
    );
    db.close();

    await assert.rejects(openSqliteStorage({ dataDir }), (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.match(error.message, /newer/);
      assert.match(error.message, /Latchkey/);
      return true;
    });
    // The refused open closed its connection: SQLite removes the WAL file with the last one.
    assert.equal(existsSync(join(dataDir, 'latchkey.db-wal')), false);
    // Refused, not "repaired": the foreign row and the data are still there.
    assert.ok(migrationRows(dataDir).some((r) => r.name === future));
    const check = new SQLite(join(dataDir, 'latchkey.db'), { readonly: true });
    try {
      assert.equal((check.prepare('select count(*) as n from users').get() as { n: number }).n, 1);
    } finally {
      check.close();
    }
  });

  it('does not migrate when asked not to', async () => {
    const dataDir = join(dir, 'unmigrated');
    const storage = await openSqliteStorage({ dataDir, migrate: false });
    await assert.rejects(storage.findUserById('usr_x'), /no such table/);
    await storage.close();
  });
});
