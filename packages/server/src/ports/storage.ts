// Domain-named storage ports. Every adapter implements `Storage` and must pass the conformance
// suite in ./conformance.ts. Operations that must be atomic say so; the core relies on it.
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
} from '../core/model.js';
import type { ThrottleStore } from './throttle.js';

export interface Page<T> {
  readonly items: readonly T[];
  readonly nextCursor: string | null;
}

export interface UserStore {
  /** Returns `null` when the (normalised) email is taken. */
  createUser(user: UserWithPassword): Promise<User | null>;
  findUserById(id: string): Promise<User | null>;
  findUserByEmail(email: string): Promise<UserWithPassword | null>;
  findUserWithPassword(id: string): Promise<UserWithPassword | null>;
  /** Users in ID (creation) order, after `cursor` (an ID). */
  listUsers(query: { email?: string; limit: number; after?: string }): Promise<readonly User[]>;
  updatePassword(userId: string, passwordHash: string, epoch: number): Promise<void>;
  setStatus(userId: string, status: UserStatus, epoch: number | null): Promise<void>;
  /** Moves the epoch forward only; never back. */
  advanceEpoch(userId: string, epoch: number): Promise<void>;
}

export interface NewSession extends Omit<Session, 'revokedAt'> {
  /** SHA-256 of the cookie value for cookie sessions; `null` for refresh families. */
  readonly secretHash: string | null;
}

export interface SessionStore {
  createSession(session: NewSession): Promise<void>;
  findSessionById(id: string): Promise<Session | null>;
  findSessionBySecretHash(secretHash: string): Promise<Session | null>;
  /** Active (not revoked, not expired at `now`) sessions of a user, newest first. */
  listActiveSessions(userId: string, now: number): Promise<readonly Session[]>;
  touchSession(id: string, lastSeenAt: number, idleExpiresAt: number): Promise<void>;
  /**
   * Marks sessions revoked and deletes their refresh tokens. Returns the IDs that were active and
   * are now revoked (already revoked ones are not returned), so callers log each revocation once.
   */
  revokeSessions(ids: readonly string[], now: number, reason: RevokeReason): Promise<string[]>;
  /**
   * Replaces the cookie secret of a live session: the browser gets a new session cookie for the
   * same login after a privilege change, and the old value stops working.
   */
  replaceSessionSecret(id: string, secretHash: string): Promise<void>;
  /** Secret hashes of cookie sessions among `ids`: what a session cache must forget on revocation. */
  findSessionSecretHashes(
    ids: readonly string[],
  ): Promise<ReadonlyArray<{ id: string; secretHash: string; expiresAt: number }>>;
}

export interface RotateRefreshTokenInput {
  readonly presentedHash: string;
  readonly successor: { readonly tokenHash: string; readonly sealed: string };
  readonly now: number;
  readonly idleExpiresAt: number;
}

export interface RefreshTokenStore {
  createRefreshToken(record: {
    tokenHash: string;
    sessionId: string;
    createdAt: number;
  }): Promise<void>;
  findRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | null>;
  /**
   * Atomic compare-and-set: if the presented token has not been rotated yet, records its successor
   * (hash and sealed value), inserts the successor token and slides the session's idle expiry, all
   * in one transaction, and returns `rotated`. If another request rotated it first, changes nothing
   * and returns `already_rotated`. Under any interleaving a token gets at most one successor.
   */
  rotateRefreshToken(input: RotateRefreshTokenInput): Promise<'rotated' | 'already_rotated'>;
}

export interface RevocationLog {
  /** Appends an event with the next sequence number; returns it. */
  appendRevocation(event: Omit<RevocationEvent, 'seq'>): Promise<RevocationEvent>;
  listRevocations(query: { after: number; limit: number }): Promise<readonly RevocationEvent[]>;
  /** Events whose `until` is still ahead: what a freshly started verifier must know. */
  listLiveRevocations(now: number): Promise<readonly RevocationEvent[]>;
  pruneRevocations(now: number): Promise<number>;
}

export interface AuditStore {
  appendAudit(event: NewAuditEvent): Promise<void>;
  /** Newest first, `before` is an event ID. */
  listAudit(query: {
    userId?: string;
    type?: AuditEventType;
    limit: number;
    before?: number;
  }): Promise<readonly AuditEvent[]>;
  /** Deletes events older than `before` (retention); returns how many. */
  pruneAudit(before: number): Promise<number>;
}

export interface KeyStore {
  listSigningKeys(): Promise<readonly SigningKeyRecord[]>;
  /** Inserts the new key and retires the current one in one transaction. */
  addSigningKey(key: SigningKeyRecord, retireOthersAt: number): Promise<void>;
  deleteSigningKeys(kids: readonly string[]): Promise<void>;
}

export interface Storage
  extends
    UserStore,
    ThrottleStore,
    SessionStore,
    RefreshTokenStore,
    RevocationLog,
    AuditStore,
    KeyStore {
  /** Resolves when the backing store answers; rejects otherwise (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export type { RevocationKind };
