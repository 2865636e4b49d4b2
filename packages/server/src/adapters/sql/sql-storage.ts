// The storage ports over Kysely: one code path for SQLite and PostgreSQL. Queries stay within the
// SQL both engines share (RETURNING included: SQLite has had it since 3.35).
import type { Kysely, Selectable } from 'kysely';
import type {
  AuditEvent,
  AuditEventType,
  NewAuditEvent,
  RefreshTokenRecord,
  RevocationEvent,
  RevocationKind,
  RevokeReason,
  Session,
  SigningKeyRecord,
  User,
  UserStatus,
  UserWithPassword,
} from '../../core/model.js';
import type {
  NewSession,
  NewUser,
  RevocationWindow,
  RotateRefreshTokenInput,
  Storage,
} from '../../ports/storage.js';
import { PreparedQuery, type OnPrepare, type Param } from './prepared-query.js';
import type {
  Database,
  RefreshTokensTable,
  SessionsTable,
  SqlDialectName,
  UsersTable,
} from './schema.js';
import { BatchedRotation } from './batched-rotation.js';
import { AuditInsert, GroupCommitRotation, type RotationWriter } from './refresh-rotation.js';
import { SqlThrottleStore } from './sql-throttle-store.js';
import { inTransaction } from './transactions.js';

const toUser = (row: Selectable<UsersTable>): User => ({
  id: row.id,
  email: row.email,
  roles: JSON.parse(row.roles) as string[],
  status: row.status as UserStatus,
  epoch: Number(row.epoch),
  createdAt: Number(row.created_at),
  passwordChangeRequired: Number(row.password_change_required) !== 0,
});

const toUserWithPassword = (row: Selectable<UsersTable>): UserWithPassword => ({
  ...toUser(row),
  passwordHash: row.password_hash,
});

/** The columns a Session is made of. */
const SESSION_COLUMNS = [
  'sessions.id',
  'sessions.user_id',
  'sessions.client_id',
  'sessions.strategy',
  'sessions.created_at',
  'sessions.last_seen_at',
  'sessions.idle_expires_at',
  'sessions.expires_at',
  'sessions.ip',
  'sessions.user_agent',
  'sessions.revoked_at',
] as const;

type SessionRow = Pick<
  Selectable<SessionsTable>,
  | 'id'
  | 'user_id'
  | 'client_id'
  | 'strategy'
  | 'created_at'
  | 'last_seen_at'
  | 'idle_expires_at'
  | 'expires_at'
  | 'ip'
  | 'user_agent'
  | 'revoked_at'
>;

const toSession = (row: SessionRow): Session => ({
  id: row.id,
  userId: row.user_id,
  clientId: row.client_id,
  strategy: row.strategy as Session['strategy'],
  createdAt: Number(row.created_at),
  lastSeenAt: Number(row.last_seen_at),
  idleExpiresAt: Number(row.idle_expires_at),
  expiresAt: Number(row.expires_at),
  ip: row.ip,
  userAgent: row.user_agent,
  revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
});

const nullableNumber = (value: number | null): number | null =>
  value === null ? null : Number(value);

const toRefreshToken = (row: Selectable<RefreshTokensTable>): RefreshTokenRecord => ({
  tokenHash: row.token_hash,
  sessionId: row.session_id,
  createdAt: Number(row.created_at),
  rotatedAt: nullableNumber(row.rotated_at),
  successorHash: row.successor_hash,
  successorSealed: row.successor_sealed,
});

/**
 * The queries on the refresh path, built once (prepared-query.ts). They name their columns: on
 * PostgreSQL they are named statements, and a column added by a later migration (a rolling
 * upgrade) must not change the result of a statement a connection already prepared.
 */
function prepareQueries(db: Kysely<Database>, onPrepare: OnPrepare | undefined) {
  return {
    refreshToken: new PreparedQuery<{ tokenHash: string }, Selectable<RefreshTokensTable>>(
      (p) =>
        db
          .selectFrom('refresh_tokens')
          .select([
            'token_hash',
            'session_id',
            'created_at',
            'rotated_at',
            'successor_hash',
            'successor_sealed',
          ])
          .where('token_hash', '=', p('tokenHash')),
      onPrepare,
    ),
    refreshTokenWithSession: new PreparedQuery(
      (p: Param<{ tokenHash: string }>) =>
        db
          .selectFrom('refresh_tokens as t')
          .innerJoin('sessions', 'sessions.id', 't.session_id')
          .select(SESSION_COLUMNS)
          .select([
            't.token_hash',
            't.created_at as token_created_at',
            't.rotated_at',
            't.successor_hash',
            't.successor_sealed',
          ])
          .where('t.token_hash', '=', p('tokenHash')),
      onPrepare,
    ),
  };
}

export interface SqlStorageOptions {
  readonly dialect: SqlDialectName;
  readonly onPrepare?: OnPrepare;
  /**
   * Where the background prunes run: deletes that may take long on a large table, so without the
   * time limits of `db`, which is for requests. `db` by default; closed with the storage.
   */
  readonly maintenanceDb?: Kysely<Database>;
}

export class SqlStorage implements Storage {
  private readonly throttles: SqlThrottleStore;
  private readonly rotations: RotationWriter;
  private readonly audit: AuditInsert;
  private readonly queries: ReturnType<typeof prepareQueries>;
  private readonly maintenanceDb: Kysely<Database>;

  constructor(
    private readonly db: Kysely<Database>,
    options: SqlStorageOptions,
  ) {
    const { dialect, onPrepare } = options;
    this.maintenanceDb = options.maintenanceDb ?? db;
    this.throttles = new SqlThrottleStore(db);
    this.rotations =
      dialect === 'postgres' ? new BatchedRotation(db, onPrepare) : new GroupCommitRotation(db);
    this.audit = new AuditInsert(db, onPrepare);
    this.queries = prepareQueries(db, onPrepare);
  }

  // --- users ---------------------------------------------------------------------------------

  async createUser(user: NewUser): Promise<User | null> {
    const inserted = await this.db
      .insertInto('users')
      .values({
        id: user.id,
        email: user.email,
        password_hash: user.passwordHash,
        roles: JSON.stringify(user.roles),
        status: user.status,
        epoch: user.epoch,
        created_at: user.createdAt,
        updated_at: user.createdAt,
        password_change_required: user.passwordChangeRequired ? 1 : 0,
      })
      .onConflict((oc) => oc.column('email').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!inserted) return null;
    const { passwordHash: _secret, ...created } = user;
    return { ...created, passwordChangeRequired: user.passwordChangeRequired ?? false };
  }

  async findUserById(id: string): Promise<User | null> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toUser(row) : null;
  }

  async findUserByEmail(email: string): Promise<UserWithPassword | null> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where('email', '=', email)
      .executeTakeFirst();
    return row ? toUserWithPassword(row) : null;
  }

  async findUserWithPassword(id: string): Promise<UserWithPassword | null> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toUserWithPassword(row) : null;
  }

  async listUsers(query: {
    email?: string;
    limit: number;
    after?: string;
  }): Promise<readonly User[]> {
    let q = this.db.selectFrom('users').selectAll().orderBy('id').limit(query.limit);
    if (query.email !== undefined) q = q.where('email', '=', query.email);
    if (query.after !== undefined) q = q.where('id', '>', query.after);
    return (await q.execute()).map(toUser);
  }

  async updatePassword(userId: string, passwordHash: string, epoch: number): Promise<void> {
    await inTransaction(this.db, async (trx) => {
      await trx
        .updateTable('users')
        .set({ password_hash: passwordHash, epoch, password_change_required: 0 })
        .where('id', '=', userId)
        .execute();
      await trx
        .updateTable('sessions')
        .set({ password_change_required: 0 })
        .where('user_id', '=', userId)
        .where('password_change_required', '<>', 0)
        .execute();
    });
  }

  async requirePasswordChange(userId: string): Promise<void> {
    await this.db
      .updateTable('users')
      .set({ password_change_required: 1 })
      .where('id', '=', userId)
      .execute();
  }

  async setStatus(userId: string, status: UserStatus, epoch: number | null): Promise<void> {
    await this.db
      .updateTable('users')
      .set(epoch === null ? { status } : { status, epoch })
      .where('id', '=', userId)
      .execute();
  }

  async advanceEpoch(
    userId: string,
    epoch: number,
    event: RevocationWindow,
  ): Promise<RevocationEvent> {
    return inTransaction(this.db, async (trx) => {
      await trx
        .updateTable('users')
        .set({ epoch })
        .where('id', '=', userId)
        .where('epoch', '<', epoch)
        .execute();
      const [logged] = await logRevocations(trx, [{ kind: 'user', subjectId: userId, ...event }]);
      return logged!;
    });
  }

  // --- sessions ------------------------------------------------------------------------------

  async createSession(session: NewSession): Promise<void> {
    await this.db
      .insertInto('sessions')
      .values({
        id: session.id,
        user_id: session.userId,
        client_id: session.clientId,
        strategy: session.strategy,
        secret_hash: session.secretHash,
        created_at: session.createdAt,
        last_seen_at: session.lastSeenAt,
        idle_expires_at: session.idleExpiresAt,
        expires_at: session.expiresAt,
        ip: session.ip,
        user_agent: session.userAgent,
        revoked_at: null,
        revoke_reason: null,
        password_change_required: session.passwordChangeRequired ? 1 : 0,
      })
      .execute();
  }

  async findSessionById(id: string): Promise<Session | null> {
    const row = await this.db
      .selectFrom('sessions')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toSession(row) : null;
  }

  async findSessionBySecretHash(secretHash: string): Promise<Session | null> {
    const row = await this.db
      .selectFrom('sessions')
      .selectAll()
      .where('secret_hash', '=', secretHash)
      .executeTakeFirst();
    return row ? toSession(row) : null;
  }

  async listActiveSessions(userId: string, now: number): Promise<readonly Session[]> {
    const rows = await this.db
      .selectFrom('sessions')
      .selectAll()
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', now)
      .where('idle_expires_at', '>', now)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
    return rows.map(toSession);
  }

  async touchSession(id: string, lastSeenAt: number, idleExpiresAt: number): Promise<void> {
    await this.db
      .updateTable('sessions')
      .set({ last_seen_at: lastSeenAt, idle_expires_at: idleExpiresAt })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .execute();
  }

  async updateSessionContext(
    id: string,
    ip: string | null,
    userAgent: string | null,
  ): Promise<void> {
    await this.db
      .updateTable('sessions')
      .set({ ip, user_agent: userAgent })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .execute();
  }

  async isSessionPasswordChangeRequired(id: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('sessions')
      .select('password_change_required')
      .where('id', '=', id)
      .executeTakeFirst();
    return row !== undefined && Number(row.password_change_required) !== 0;
  }

  async revokeSessions(
    ids: readonly string[],
    now: number,
    reason: RevokeReason,
    eventUntil: (sessionId: string) => number,
  ): Promise<RevocationEvent[]> {
    if (ids.length === 0) return [];
    return inTransaction(this.db, async (trx) => {
      const revoked = await trx
        .updateTable('sessions')
        .set({ revoked_at: now, revoke_reason: reason, secret_hash: null })
        .where('id', 'in', ids)
        .where('revoked_at', 'is', null)
        .returning('id')
        .execute();
      await trx.deleteFrom('refresh_tokens').where('session_id', 'in', ids).execute();
      return logRevocations(
        trx,
        revoked.map(({ id }) => ({
          kind: 'session',
          subjectId: id,
          at: now,
          until: eventUntil(id),
        })),
      );
    });
  }

  async findSessionSecretHashes(
    ids: readonly string[],
  ): Promise<ReadonlyArray<{ id: string; secretHash: string; expiresAt: number }>> {
    if (ids.length === 0) return [];
    const rows = await this.db
      .selectFrom('sessions')
      .select(['id', 'secret_hash', 'expires_at'])
      .where('id', 'in', ids)
      .where('secret_hash', 'is not', null)
      .execute();
    return rows.map((row) => ({
      id: row.id,
      secretHash: row.secret_hash!,
      expiresAt: Number(row.expires_at),
    }));
  }

  async replaceSessionSecret(id: string, secretHash: string): Promise<void> {
    await this.db
      .updateTable('sessions')
      .set({ secret_hash: secretHash })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .execute();
  }

  // --- refresh tokens ------------------------------------------------------------------------

  async createRefreshToken(record: {
    tokenHash: string;
    sessionId: string;
    createdAt: number;
  }): Promise<void> {
    await this.db
      .insertInto('refresh_tokens')
      .values({
        token_hash: record.tokenHash,
        session_id: record.sessionId,
        created_at: record.createdAt,
        rotated_at: null,
        successor_hash: null,
        successor_sealed: null,
      })
      .execute();
  }

  async findRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | null> {
    const row = await this.queries.refreshToken.executeTakeFirst(this.db, { tokenHash });
    return row ? toRefreshToken(row) : null;
  }

  async findRefreshTokenWithSession(
    tokenHash: string,
  ): Promise<{ token: RefreshTokenRecord; session: Session } | null> {
    const row = await this.queries.refreshTokenWithSession.executeTakeFirst(this.db, { tokenHash });
    if (!row) return null;
    return {
      token: toRefreshToken({ ...row, session_id: row.id, created_at: row.token_created_at }),
      session: toSession(row),
    };
  }

  rotateRefreshToken(input: RotateRefreshTokenInput): Promise<'rotated' | 'already_rotated'> {
    return this.rotations.rotate(input);
  }

  // --- revocation log ------------------------------------------------------------------------

  async appendRevocation(event: Omit<RevocationEvent, 'seq'>): Promise<RevocationEvent> {
    const [logged] = await logRevocations(this.db, [event]);
    return logged!;
  }

  async listRevocations(query: {
    after: number;
    limit: number;
  }): Promise<readonly RevocationEvent[]> {
    const rows = await this.db
      .selectFrom('revocations')
      .selectAll()
      .where('seq', '>', query.after)
      .orderBy('seq')
      .limit(query.limit)
      .execute();
    return rows.map(toRevocation);
  }

  async listLiveRevocations(now: number): Promise<readonly RevocationEvent[]> {
    const rows = await this.db
      .selectFrom('revocations')
      .selectAll()
      .where('until', '>=', now)
      .orderBy('seq')
      .execute();
    return rows.map(toRevocation);
  }

  async pruneRevocations(now: number): Promise<number> {
    const result = await this.maintenanceDb
      .deleteFrom('revocations')
      .where('until', '<', now)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  // --- audit ---------------------------------------------------------------------------------

  async appendAudit(event: NewAuditEvent): Promise<void> {
    await this.audit.append(this.db, event);
  }

  async listAudit(query: {
    userId?: string;
    type?: AuditEventType;
    limit: number;
    before?: number;
  }): Promise<readonly AuditEvent[]> {
    let q = this.db.selectFrom('audit_events').selectAll().orderBy('id', 'desc').limit(query.limit);
    if (query.userId !== undefined) q = q.where('user_id', '=', query.userId);
    if (query.type !== undefined) q = q.where('type', '=', query.type);
    if (query.before !== undefined) q = q.where('id', '<', query.before);
    const rows = await q.execute();
    return rows.map((row) => ({
      id: Number(row.id),
      type: row.type as AuditEventType,
      at: Number(row.at),
      userId: row.user_id,
      sessionId: row.session_id,
      clientId: row.client_id,
      ip: row.ip,
      userAgent: row.user_agent,
      detail: JSON.parse(row.detail) as AuditEvent['detail'],
    }));
  }

  async pruneAudit(before: number): Promise<number> {
    const result = await this.maintenanceDb
      .deleteFrom('audit_events')
      .where('at', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  // --- known devices -----------------------------------------------------------------------

  async findKnownDevice(
    userId: string,
    fingerprint: string,
  ): Promise<{ known: boolean; anyKnown: boolean }> {
    // This device first, then any other: one row answers both questions.
    const row = await this.db
      .selectFrom('known_devices')
      .select('fingerprint')
      .where('user_id', '=', userId)
      .orderBy((eb) => eb.case().when('fingerprint', '=', fingerprint).then(0).else(1).end())
      .limit(1)
      .executeTakeFirst();
    return { known: row?.fingerprint === fingerprint, anyKnown: row !== undefined };
  }

  async rememberDevice(userId: string, fingerprint: string, now: number): Promise<void> {
    await this.db
      .insertInto('known_devices')
      .values({ user_id: userId, fingerprint, first_seen_at: now, last_seen_at: now })
      .onConflict((oc) => oc.columns(['user_id', 'fingerprint']).doUpdateSet({ last_seen_at: now }))
      .execute();
  }

  async pruneKnownDevices(before: number): Promise<number> {
    const result = await this.maintenanceDb
      .deleteFrom('known_devices')
      .where('last_seen_at', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  // --- signing keys --------------------------------------------------------------------------

  async listSigningKeys(): Promise<readonly SigningKeyRecord[]> {
    const rows = await this.db
      .selectFrom('signing_keys')
      .selectAll()
      .orderBy('created_at')
      .execute();
    return rows.map((row) => ({
      kid: row.kid,
      alg: row.alg,
      publicJwk: row.public_jwk,
      privateJwk: row.private_jwk,
      createdAt: Number(row.created_at),
      retiredAt: nullableNumber(row.retired_at),
    }));
  }

  async addSigningKey(key: SigningKeyRecord, retireOthersAt: number): Promise<void> {
    await inTransaction(this.db, async (trx) => {
      await trx
        .updateTable('signing_keys')
        .set({ retired_at: retireOthersAt })
        .where('retired_at', 'is', null)
        .execute();
      await trx
        .insertInto('signing_keys')
        .values({
          kid: key.kid,
          alg: key.alg,
          public_jwk: key.publicJwk,
          private_jwk: key.privateJwk,
          created_at: key.createdAt,
          retired_at: key.retiredAt,
        })
        .execute();
    });
  }

  async deleteSigningKeys(kids: readonly string[]): Promise<void> {
    if (kids.length === 0) return;
    await this.db.deleteFrom('signing_keys').where('kid', 'in', kids).execute();
  }

  // --- throttles ----------------------------------------------------------------------------

  blockedUntil(keys: readonly string[], now: number): Promise<number> {
    return this.throttles.blockedUntil(keys, now);
  }

  recordFailure(key: string, now: number, resetAfterMs: number): Promise<number> {
    return this.throttles.recordFailure(key, now, resetAfterMs);
  }

  block(key: string, until: number): Promise<void> {
    return this.throttles.block(key, until);
  }

  clear(key: string): Promise<void> {
    return this.throttles.clear(key);
  }

  // --- lifecycle -----------------------------------------------------------------------------

  async ping(): Promise<void> {
    await this.db.selectFrom('users').select('id').limit(1).execute();
  }

  async close(): Promise<void> {
    await this.db.destroy();
    if (this.maintenanceDb !== this.db) await this.maintenanceDb.destroy();
  }
}

/** Appends events to the revocation log through `db` (a transaction, when it must be atomic). */
async function logRevocations(
  db: Kysely<Database>,
  events: ReadonlyArray<Omit<RevocationEvent, 'seq'>>,
): Promise<RevocationEvent[]> {
  if (events.length === 0) return [];
  const rows = await db
    .insertInto('revocations')
    .values(
      events.map((event) => ({
        kind: event.kind,
        subject_id: event.subjectId,
        at: event.at,
        until: event.until,
      })),
    )
    .returning(['seq', 'kind', 'subject_id', 'at', 'until'])
    .execute();
  return rows.map(toRevocation);
}

function toRevocation(row: {
  seq: number;
  kind: string;
  subject_id: string;
  at: number;
  until: number;
}): RevocationEvent {
  return {
    seq: Number(row.seq),
    kind: row.kind as RevocationKind,
    subjectId: row.subject_id,
    at: Number(row.at),
    until: Number(row.until),
  };
}
