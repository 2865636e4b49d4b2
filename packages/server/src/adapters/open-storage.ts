import type { LatchkeyConfig } from '../config/types.js';
import type { Storage } from '../ports/storage.js';
import { openPostgresStorage } from './sql/postgres.js';
import { openSqliteStorage } from './sql/sqlite.js';

/** The store the config names: PostgreSQL for a `postgres://` URL, else SQLite in `dataDir`. */
export async function openStorage(
  config: Pick<LatchkeyConfig, 'databaseUrl' | 'databaseStatementTimeout' | 'dataDir'>,
  options: { migrate?: boolean } = {},
): Promise<Storage> {
  const migrate = options.migrate ?? true;
  if (config.databaseUrl !== null) {
    // The config accepts only postgres:// and postgresql://; anything else fails closed here too
    // rather than silently falling back to SQLite.
    if (!/^postgres(ql)?:\/\//i.test(config.databaseUrl)) {
      throw new Error('databaseUrl: only postgres:// and postgresql:// URLs are supported');
    }
    return openPostgresStorage({
      url: config.databaseUrl,
      migrate,
      statementTimeoutMs: config.databaseStatementTimeout * 1000,
    });
  }
  return openSqliteStorage({ dataDir: config.dataDir, migrate });
}
