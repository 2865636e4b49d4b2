// The embedded default: one SQLite file in the data directory.
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { migrateToLatest } from './migrations.js';
import type { Database } from './schema.js';
import { SqlStorage } from './sql-storage.js';

export interface SqliteOptions {
  /** A directory for `latchkey.db`, or `:memory:` for tests. */
  readonly dataDir: string;
  readonly migrate?: boolean;
}

export async function openSqliteStorage(options: SqliteOptions): Promise<SqlStorage> {
  const file = options.dataDir === ':memory:' ? ':memory:' : join(options.dataDir, 'latchkey.db');
  if (file !== ':memory:') mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const database = new SQLite(file);
  // The file holds the private signing keys: owner-only, whatever the umask or directory.
  if (file !== ':memory:') chmodSync(file, 0o600);
  // WAL lets readers proceed during a write; the busy timeout covers the CLI writing (keys rotate)
  // while a server runs on the same file.
  database.pragma('journal_mode = WAL');
  database.pragma('busy_timeout = 5000');
  database.pragma('foreign_keys = ON');
  database.pragma('synchronous = NORMAL');
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: withStatementCache(database) }),
  });
  if (options.migrate !== false) {
    try {
      await migrateToLatest(db as Kysely<unknown>, 'sqlite');
    } catch (error) {
      // A refused or failed migration must not leave the file open behind it.
      await db.destroy();
      throw error;
    }
  }
  return new SqlStorage(db, { dialect: 'sqlite' });
}

/**
 * Kysely asks the driver to prepare every statement it runs; better-sqlite3 would compile the
 * SQL again each time. Statements are reused by their SQL text (a bounded set: the queries are
 * built in code, values are always bound parameters).
 */
function withStatementCache(database: SQLite.Database): SQLite.Database {
  const statements = new Map<string, SQLite.Statement>();
  const prepare = database.prepare.bind(database);
  return new Proxy(database, {
    get(target, property, receiver) {
      if (property !== 'prepare') return Reflect.get(target, property, receiver) as unknown;
      return (source: string) => {
        let statement = statements.get(source);
        if (!statement) {
          statement = prepare(source);
          if (statements.size < 1000) statements.set(source, statement);
        }
        return statement;
      };
    },
  });
}
