// The PostgreSQL adapter against the storage conformance suite in a fresh random schema, plus what
// only a shared server can show: rotation stays a compare-and-set across separate pools (separate
// instances), times come back as numbers, and a schema from a newer Latchkey is refused.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { openStorage } from '../../src/adapters/open-storage.js';
import { KNOWN_MIGRATIONS } from '../../src/adapters/sql/migrations.js';
import { openPostgresStorage } from '../../src/adapters/sql/postgres.js';
import type { SqlStorage } from '../../src/adapters/sql/sql-storage.js';
import { newSession, runStorageConformance } from '../../src/ports/conformance.js';
import {
  TEST_DATABASE_URL,
  createTestSchema,
  dropTestSchema,
  postgresSkip,
  queryTestDatabase,
  randomSchemaName,
} from '../support/postgres.js';

const skip = await postgresSkip();
const T0 = Date.UTC(2026, 0, 1);

const user = (id: string) => ({
  id,
  email: `${id}@example.test`,
  passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
  roles: ['admin'],
  status: 'active' as const,
  epoch: 1_767_225_600,
  createdAt: T0,
});

/** A user with one hybrid session and its first refresh token, stored through `store`. */
async function createFamily(store: SqlStorage, prefix: string) {
  const owner = user(randomSchemaName(prefix));
  await store.createUser(owner);
  const sessionId = `ses_${owner.id}`;
  await store.createSession(newSession(owner.id, { id: sessionId }));
  const tokenHash = `rt_${owner.id}`;
  await store.createRefreshToken({ tokenHash, sessionId, createdAt: T0 });
  return { sessionId, tokenHash };
}

describe('PostgreSQL storage', { skip }, () => {
  const schemas: string[] = [];
  async function freshSchema(): Promise<string> {
    const schema = await createTestSchema();
    schemas.push(schema);
    return schema;
  }
  // Runs after every suite below has closed its stores.
  after(async () => {
    await Promise.all(schemas.map(dropTestSchema));
  });

  runStorageConformance('PostgreSQL', {
    open: async () => openPostgresStorage({ url: TEST_DATABASE_URL, schema: await freshSchema() }),
  });

  describe('across instances', () => {
    let schema: string;
    let first: SqlStorage;
    let second: SqlStorage;
    before(async () => {
      schema = await freshSchema();
      // Two pools on one schema: two Latchkey instances behind a load balancer.
      first = await openPostgresStorage({ url: TEST_DATABASE_URL, schema });
      second = await openPostgresStorage({ url: TEST_DATABASE_URL, schema });
    });
    after(async () => {
      await first?.close();
      await second?.close();
    });

    const family = (prefix: string) => createFamily(first, prefix);

    it('gives a token exactly one successor when 20 rotations race over two pools', async () => {
      for (let round = 0; round < 5; round++) {
        const { tokenHash } = await family('race');
        const attempts = Array.from({ length: 20 }, (_, i) => ({
          tokenHash: `${tokenHash}_next_${i}`,
          sealed: `sealed_${i}`,
        }));
        const outcomes = await Promise.all(
          attempts.map((successor, i) =>
            (i % 2 === 0 ? first : second).rotateRefreshToken({
              presentedHash: tokenHash,
              successor,
              now: T0 + 1,
              idleExpiresAt: T0 + 2,
            }),
          ),
        );
        assert.equal(outcomes.filter((o) => o === 'rotated').length, 1);
        const winner = attempts[outcomes.indexOf('rotated')]!;
        const parent = await second.findRefreshToken(tokenHash);
        assert.equal(parent?.successorHash, winner.tokenHash);
        assert.equal(parent?.successorSealed, winner.sealed);
        for (const loser of attempts.filter((a) => a !== winner)) {
          assert.equal(await first.findRefreshToken(loser.tokenHash), null);
        }
      }
    });

    it('lets a rotation race a revocation of its family: no deadlock, no token left', async () => {
      for (let round = 0; round < 10; round++) {
        const { sessionId, tokenHash } = await family('revoke');
        const [rotated, revoked] = await Promise.all([
          first.rotateRefreshToken({
            presentedHash: tokenHash,
            successor: { tokenHash: `${tokenHash}_next`, sealed: 's' },
            now: T0 + 1,
            idleExpiresAt: T0 + 2,
          }),
          second.revokeSessions([sessionId], T0 + 1, 'logout', () => T0 + 60_000),
        ]);
        assert.ok(rotated === 'rotated' || rotated === 'already_rotated');
        assert.deepEqual(
          revoked.map((event) => event.subjectId),
          [sessionId],
        );
        assert.equal((await first.findSessionById(sessionId))?.revokedAt, T0 + 1);
        assert.equal(await first.findRefreshToken(tokenHash), null);
        assert.equal(await first.findRefreshToken(`${tokenHash}_next`), null);
      }
    });
  });

  describe('prepared statements', () => {
    let schema: string;
    let store: SqlStorage;
    before(async () => {
      schema = await freshSchema();
      // One connection, so the statements it prepared can be listed through it.
      store = await openPostgresStorage({ url: TEST_DATABASE_URL, schema, poolSize: 1 });
    });
    after(() => store?.close());

    /** The named statements of the store's one connection (Kysely's handle, read for the test). */
    async function preparedOnConnection(): Promise<string[]> {
      const { db } = store as unknown as { db: Kysely<unknown> };
      const { rows } = await sql<{
        name: string;
      }>`select name from pg_prepared_statements order by name`.execute(db);
      return rows.map((row) => row.name);
    }

    async function rotateFamily(prefix: string): Promise<string> {
      const { sessionId, tokenHash } = await createFamily(store, prefix);
      assert.ok(await store.findRefreshTokenWithSession(tokenHash));
      assert.equal(
        await store.rotateRefreshToken({
          presentedHash: tokenHash,
          successor: { tokenHash: `${tokenHash}_next`, sealed: 's' },
          now: T0 + 1,
          idleExpiresAt: T0 + 2,
        }),
        'rotated',
      );
      return sessionId;
    }

    it('runs the refresh path as statements each connection parses once', async () => {
      await rotateFamily('named');
      const before = await preparedOnConnection();
      assert.ok(before.filter((name) => name.startsWith('latchkey_')).length >= 2, String(before));
      await rotateFamily('named_again');
      assert.deepEqual(await preparedOnConnection(), before);
    });

    it('keeps working when a later migration adds columns under prepared statements', async () => {
      await rotateFamily('upgrade_before');
      // What a newer Latchkey's migration does while this instance keeps running.
      await queryTestDatabase('alter table sessions add column added_later text', [], schema);
      await queryTestDatabase('alter table refresh_tokens add column added_later text', [], schema);
      const sessionId = await rotateFamily('upgrade_after');
      assert.equal((await store.findSessionById(sessionId))?.lastSeenAt, T0 + 1);
    });
  });

  describe('rotations batched per event-loop turn', () => {
    let schema: string;
    let store: SqlStorage;
    before(async () => {
      schema = await freshSchema();
      store = await openPostgresStorage({ url: TEST_DATABASE_URL, schema });
    });
    after(() => store?.close());

    /** One rotation to `successor`, with or without its audit event. */
    const rotate = (tokenHash: string, successor: string, audit = true) =>
      store.rotateRefreshToken({
        presentedHash: tokenHash,
        successor: { tokenHash: successor, sealed: `sealed ${successor}` },
        now: T0 + 1,
        idleExpiresAt: T0 + 5,
        ...(audit
          ? {
              audit: {
                type: 'token_refreshed' as const,
                at: T0 + 1,
                userId: null,
                sessionId: null,
                clientId: 'app',
                ip: null,
                userAgent: null,
                detail: { successor },
              },
            }
          : {}),
      });

    it('rotates every family of a batch, each with its own successor, slide and audit event', async () => {
      const families = await Promise.all(
        Array.from({ length: 6 }, (_, i) => createFamily(store, `batch${i}`)),
      );
      const outcomes = await Promise.all(
        families.map((f, i) => rotate(f.tokenHash, `${f.tokenHash}_next`, i % 2 === 0)),
      );
      assert.deepEqual(outcomes, Array(6).fill('rotated'));
      for (const [i, f] of families.entries()) {
        const next = await store.findRefreshToken(`${f.tokenHash}_next`);
        assert.equal(next?.sessionId, f.sessionId);
        const rotated = await store.findRefreshToken(f.tokenHash);
        assert.equal(rotated?.successorHash, `${f.tokenHash}_next`);
        assert.equal(rotated?.successorSealed, `sealed ${f.tokenHash}_next`);
        assert.equal((await store.findSessionById(f.sessionId))?.idleExpiresAt, T0 + 5);
        const audited = (await store.listAudit({ type: 'token_refreshed', limit: 100 })).filter(
          (e) => (e.detail as { successor?: string }).successor === `${f.tokenHash}_next`,
        );
        assert.equal(audited.length, i % 2 === 0 ? 1 : 0, `audit of family ${i}`);
      }
    });

    it('gives a token presented twice in one batch one successor, and tells which request won', async () => {
      const twice = await createFamily(store, 'twice');
      const other = await createFamily(store, 'other');
      const outcomes = await Promise.all([
        rotate(twice.tokenHash, `${twice.tokenHash}_a`),
        rotate(other.tokenHash, `${other.tokenHash}_next`),
        rotate(twice.tokenHash, `${twice.tokenHash}_b`),
      ]);
      assert.equal(outcomes[1], 'rotated');
      assert.deepEqual([outcomes[0], outcomes[2]].sort(), ['already_rotated', 'rotated']);
      const winner = outcomes[0] === 'rotated' ? 'a' : 'b';
      const loser = winner === 'a' ? 'b' : 'a';
      assert.equal(
        (await store.findRefreshToken(twice.tokenHash))?.successorHash,
        `${twice.tokenHash}_${winner}`,
      );
      assert.ok(await store.findRefreshToken(`${twice.tokenHash}_${winner}`));
      assert.equal(await store.findRefreshToken(`${twice.tokenHash}_${loser}`), null);
      const [state] = await queryTestDatabase<{ current: number; total: number }>(
        `select count(*) filter (where rotated_at is null)::int as current, count(*)::int as total
           from refresh_tokens where session_id = $1`,
        [twice.sessionId],
        schema,
      );
      assert.deepEqual(state, { current: 1, total: 2 });
    });
  });

  describe('values', () => {
    let store: SqlStorage;
    before(async () => {
      store = await openPostgresStorage({ url: TEST_DATABASE_URL, schema: await freshSchema() });
    });
    after(() => store?.close());

    it('returns BIGINT times and serial IDs as numbers, without touching pg’s global parsers', async () => {
      const owner = user('usr_bigint');
      await store.createUser(owner);
      const found = await store.findUserById(owner.id);
      assert.equal(typeof found?.createdAt, 'number');
      assert.equal(found?.createdAt, T0);
      assert.equal(found?.epoch, owner.epoch);
      const event = await store.appendRevocation({
        kind: 'user',
        subjectId: owner.id,
        at: T0,
        until: 8_640_000_000_000_000,
      });
      const [listed] = await store.listRevocations({ after: event.seq - 1, limit: 1 });
      assert.equal(typeof listed?.seq, 'number');
      assert.equal(listed?.until, 8_640_000_000_000_000);
      // Other code in the process using `pg` still gets BIGINT as strings.
      const globalParser = pg.types.getTypeParser(20, 'text') as (value: string) => unknown;
      assert.equal(globalParser('12'), '12');
    });
  });

  describe('statement timeout', () => {
    let schema: string;
    let store: SqlStorage;
    before(async () => {
      schema = await freshSchema();
      store = await openPostgresStorage({
        url: TEST_DATABASE_URL,
        schema,
        statementTimeoutMs: 300,
      });
      // Inserting a user and deleting audit events both take a second, in this schema only.
      await queryTestDatabase(
        `create function slow_statement() returns trigger language plpgsql as
           $$ begin perform pg_sleep(1); return null; end $$;
         create trigger slow_signup before insert on users
           for each statement execute function slow_statement();
         create trigger slow_prune before delete on audit_events
           for each statement execute function slow_statement();`,
        [],
        schema,
      );
    });
    after(() => store?.close());

    it('cancels a request’s statement that runs past it, as the database being unavailable', async () => {
      await assert.rejects(store.createUser(user('usr_slow')), {
        name: 'DependencyUnavailableError',
      });
      const [row] = await queryTestDatabase<{ n: number }>(
        'select count(*)::int as n from users',
        [],
        schema,
      );
      assert.equal(row?.n, 0);
    });

    it('lets the background prunes run longer than a request may', async () => {
      await store.appendAudit({
        type: 'signup',
        at: T0,
        userId: null,
        sessionId: null,
        clientId: null,
        ip: null,
        userAgent: null,
        detail: {},
      });
      assert.equal(await store.pruneAudit(T0 + 1), 1);
    });
  });

  describe('migrations', () => {
    const migrationNames = async (schema: string) =>
      (
        await queryTestDatabase<{ name: string }>(
          'select name from kysely_migration order by name',
          [],
          schema,
        )
      ).map((r) => r.name);

    it('applies migrations once into its own schema, even when another schema has them', async () => {
      // Another migrated schema in the same database must not be taken for this one.
      const other = await freshSchema();
      await (await openPostgresStorage({ url: TEST_DATABASE_URL, schema: other })).close();
      const schema = await freshSchema();
      const firstOpen = await openPostgresStorage({ url: TEST_DATABASE_URL, schema });
      assert.ok(await firstOpen.createUser(user('usr_once')));
      await firstOpen.close();
      assert.deepEqual(await migrationNames(schema), [...KNOWN_MIGRATIONS].sort());
      const again = await openPostgresStorage({ url: TEST_DATABASE_URL, schema });
      try {
        assert.deepEqual((await again.findUserById('usr_once'))?.roles, ['admin']);
      } finally {
        await again.close();
      }
      assert.deepEqual(await migrationNames(schema), [...KNOWN_MIGRATIONS].sort());
    });

    it('creates a missing schema', async () => {
      const schema = randomSchemaName();
      schemas.push(schema);
      const store = await openPostgresStorage({ url: TEST_DATABASE_URL, schema });
      await store.ping();
      await store.close();
      assert.deepEqual(await migrationNames(schema), [...KNOWN_MIGRATIONS].sort());
    });

    it('refuses a schema migrated by a newer Latchkey, leaves it untouched and closes its pool', async () => {
      const schema = await freshSchema();
      const store = await openPostgresStorage({ url: TEST_DATABASE_URL, schema });
      assert.ok(await store.createUser(user('usr_newer')));
      await store.close();
      const future = '9999_from_the_future';
      assert.ok(future > [...KNOWN_MIGRATIONS].sort().at(-1)!);
      await queryTestDatabase(
        'insert into kysely_migration (name, timestamp) values ($1, $2)',
        [future, new Date().toISOString()],
        schema,
      );

      const application = randomSchemaName('lk_refused');
      const url = new URL(TEST_DATABASE_URL);
      url.searchParams.set('application_name', application);
      await assert.rejects(
        openPostgresStorage({ url: url.toString(), schema }),
        (error: unknown) => {
          assert.ok(error instanceof Error);
          assert.match(error.message, /newer/);
          assert.match(error.message, /Latchkey/);
          return true;
        },
      );
      // The refused open ended its connections (the server notices a moment later).
      let open = -1;
      for (let i = 0; i < 50 && open !== 0; i++) {
        if (i > 0) await sleep(20);
        const [row] = await queryTestDatabase<{ n: number }>(
          'select count(*)::int as n from pg_stat_activity where application_name = $1',
          [application],
        );
        open = row?.n ?? -1;
      }
      assert.equal(open, 0);
      assert.ok((await migrationNames(schema)).includes(future));
      const [count] = await queryTestDatabase<{ n: number }>(
        'select count(*)::int as n from users',
        [],
        schema,
      );
      assert.equal(count?.n, 1);
    });

    it('does not migrate when asked not to', async () => {
      const schema = await freshSchema();
      const store = await openPostgresStorage({ url: TEST_DATABASE_URL, schema, migrate: false });
      try {
        await assert.rejects(store.findUserById('usr_x'), /does not exist/);
      } finally {
        await store.close();
      }
    });

    it('rejects a schema name that is not a plain identifier', async () => {
      await assert.rejects(
        openPostgresStorage({ url: TEST_DATABASE_URL, schema: 'x; drop table users' }),
        /schema/,
      );
    });
  });

  describe('openStorage', () => {
    it('opens PostgreSQL for a postgres:// or postgresql:// URL, in the URL’s search path', async () => {
      for (const scheme of ['postgres:', 'postgresql:']) {
        const schema = await freshSchema();
        const url = new URL(TEST_DATABASE_URL);
        url.searchParams.set('options', `-c search_path=${schema}`);
        const withScheme = `${scheme}${url.toString().slice(url.protocol.length)}`;
        const store = await openStorage({
          databaseUrl: withScheme,
          databaseStatementTimeout: 5,
          dataDir: '/nonexistent',
        });
        try {
          assert.ok(await store.createUser(user(`usr_${schema}`)));
        } finally {
          await store.close();
        }
        const [row] = await queryTestDatabase<{ n: number }>(
          'select count(*)::int as n from users',
          [],
          schema,
        );
        assert.equal(row?.n, 1);
      }
    });
  });
});
