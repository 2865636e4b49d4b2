import type { LatchkeyConfig } from '../config/types.js';
import type { Storage } from '../ports/storage.js';
import { openSqliteStorage } from './sql/sqlite.js';

/** The store the config names: PostgreSQL for a `postgres://` URL, else SQLite in `dataDir`. */
export async function openStorage(
  config: Pick<LatchkeyConfig, 'databaseUrl' | 'dataDir'>,
  options: { migrate?: boolean } = {},
): Promise<Storage> {
  if (config.databaseUrl !== null) {
    // Fail closed rather than silently fall back to SQLite.
    throw new Error('databaseUrl: PostgreSQL storage is not available in this build yet');
  }
  return openSqliteStorage({ dataDir: config.dataDir, migrate: options.migrate ?? true });
}
