// Versioned migrations, kept in code so the compiled server carries them. Each runs on SQLite and
// PostgreSQL; the few differences (auto-increment keys) are spelled out where they occur. Never
// edit a migration that has shipped: add the next one.
import { Migrator } from 'kysely';
import type { Kysely, Migration, MigrationProvider } from 'kysely';
import type { SqlDialectName } from './schema.js';

function autoIncrementKey(dialect: SqlDialectName) {
  return dialect === 'postgres' ? 'bigserial' : 'integer';
}

function buildMigrations(dialect: SqlDialectName): Record<string, Migration> {
  const serial = autoIncrementKey(dialect);
  return {
    '0001_initial': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('users')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('email', 'text', (c) => c.notNull().unique())
          .addColumn('password_hash', 'text', (c) => c.notNull())
          .addColumn('roles', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('epoch', 'bigint', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('sessions')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
          .addColumn('client_id', 'text', (c) => c.notNull())
          .addColumn('strategy', 'text', (c) => c.notNull())
          .addColumn('secret_hash', 'text', (c) => c.unique())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
          .addColumn('idle_expires_at', 'bigint', (c) => c.notNull())
          .addColumn('expires_at', 'bigint', (c) => c.notNull())
          .addColumn('ip', 'text')
          .addColumn('user_agent', 'text')
          .addColumn('revoked_at', 'bigint')
          .addColumn('revoke_reason', 'text')
          .execute();
        await db.schema
          .createIndex('sessions_user_id')
          .on('sessions')
          .columns(['user_id', 'revoked_at'])
          .execute();

        await db.schema
          .createTable('refresh_tokens')
          .addColumn('token_hash', 'text', (c) => c.primaryKey())
          .addColumn('session_id', 'text', (c) => c.notNull().references('sessions.id'))
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('rotated_at', 'bigint')
          .addColumn('successor_hash', 'text')
          .addColumn('successor_sealed', 'text')
          .execute();
        await db.schema
          .createIndex('refresh_tokens_session_id')
          .on('refresh_tokens')
          .column('session_id')
          .execute();

        await db.schema
          .createTable('revocations')
          .addColumn('seq', serial, (c) =>
            dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
          )
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('subject_id', 'text', (c) => c.notNull())
          .addColumn('at', 'bigint', (c) => c.notNull())
          .addColumn('until', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('revocations_until')
          .on('revocations')
          .column('until')
          .execute();

        await db.schema
          .createTable('audit_events')
          .addColumn('id', serial, (c) =>
            dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
          )
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('at', 'bigint', (c) => c.notNull())
          .addColumn('user_id', 'text')
          .addColumn('session_id', 'text')
          .addColumn('client_id', 'text')
          .addColumn('ip', 'text')
          .addColumn('user_agent', 'text')
          .addColumn('detail', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('audit_events_user')
          .on('audit_events')
          .columns(['user_id', 'id'])
          .execute();
        await db.schema
          .createIndex('audit_events_type')
          .on('audit_events')
          .columns(['type', 'id'])
          .execute();

        await db.schema
          .createTable('signing_keys')
          .addColumn('kid', 'text', (c) => c.primaryKey())
          .addColumn('alg', 'text', (c) => c.notNull())
          .addColumn('public_jwk', 'text', (c) => c.notNull())
          .addColumn('private_jwk', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('retired_at', 'bigint')
          .execute();
      },
    },
    '0002_abuse_and_risk': {
      async up(db: Kysely<unknown>) {
        // Failure counters for login throttling, shared by every instance on this database.
        await db.schema
          .createTable('throttles')
          .addColumn('key', 'text', (c) => c.primaryKey())
          .addColumn('failures', 'integer', (c) => c.notNull())
          .addColumn('last_failure_at', 'bigint', (c) => c.notNull())
          .addColumn('blocked_until', 'bigint', (c) => c.notNull())
          .execute();
        // "This wasn't me": the next login must change the password first.
        await db.schema
          .alterTable('users')
          .addColumn('password_change_required', 'integer', (c) => c.notNull().defaultTo(0))
          .execute();
        // Devices (user-agent family and network) a user has logged in from.
        await db.schema
          .createTable('known_devices')
          .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
          .addColumn('fingerprint', 'text', (c) => c.notNull())
          .addColumn('first_seen_at', 'bigint', (c) => c.notNull())
          .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('known_devices_pk', ['user_id', 'fingerprint'])
          .execute();
      },
    },
    '0003_password_change_sessions': {
      async up(db: Kysely<unknown>) {
        // Sessions started while the user's password change was pending: limited to changing it.
        // A mark on the session, not a time on the user, so the reporter's own session (older than
        // the report) stays free even when both fall in the same millisecond.
        await db.schema
          .alterTable('sessions')
          .addColumn('password_change_required', 'integer', (c) => c.notNull().defaultTo(0))
          .execute();
      },
    },
  };
}

class InCodeMigrationProvider implements MigrationProvider {
  constructor(private readonly dialect: SqlDialectName) {}
  getMigrations(): Promise<Record<string, Migration>> {
    return Promise.resolve(buildMigrations(this.dialect));
  }
}

export const KNOWN_MIGRATIONS = Object.keys(buildMigrations('sqlite'));

export class SchemaTooNewError extends Error {}

/**
 * Applies pending migrations; refuses a database migrated by a newer Latchkey. On PostgreSQL pass
 * the schema in use: Kysely otherwise takes a migration table in any schema for its own.
 */
export async function migrateToLatest(
  db: Kysely<unknown>,
  dialect: SqlDialectName,
  options: { migrationTableSchema?: string } = {},
): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: new InCodeMigrationProvider(dialect),
    ...(options.migrationTableSchema === undefined
      ? {}
      : { migrationTableSchema: options.migrationTableSchema }),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    if (error instanceof Error && /corrupted migrations/.test(error.message)) {
      throw new SchemaTooNewError(
        'the database was migrated by a newer version of Latchkey; upgrade this server first',
      );
    }
    throw error instanceof Error ? error : new Error('migration failed', { cause: error });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
