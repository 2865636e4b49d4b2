// Domain-named storage ports. Every adapter implements `Storage` and must pass the conformance
// suite in ./conformance.ts. Operations that must be atomic say so; the core relies on it.
import type {
  AuditEvent,
  AuditEventType,
  NewAuditEvent,
  RefreshTokenRecord,
  RevocationEvent,
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

/** A user to create; a new account has no pending password change unless it says so. */
export type NewUser = Omit<UserWithPassword, 'passwordChangeRequired'> & {
  readonly passwordChangeRequired?: boolean;
};

export interface UserStore {
  /** Returns `null` when the (normalised) email is taken. */
  createUser(user: NewUser): Promise<User | null>;
  findUserById(id: string): Promise<User | null>;
  findUserByEmail(email: string): Promise<UserWithPassword | null>;
  findUserWithPassword(id: string): Promise<UserWithPassword | null>;
  /** Users in ID (creation) order, after `cursor` (an ID). */
  listUsers(query: { email?: string; limit: number; after?: string }): Promise<readonly User[]>;
  /**
   * Stores a new password hash with the new epoch. A new password also ends a pending password
   * change: the user's flag and the marks of its sessions are cleared.
   */
  updatePassword(userId: string, passwordHash: string, epoch: number): Promise<void>;
  /** Flags the user: sessions and tokens of the next logins are limited to changing the password. */
  requirePasswordChange(userId: string): Promise<void>;
  setStatus(userId: string, status: UserStatus, epoch: number | null): Promise<void>;
  /**
   * Moves the epoch forward only, never back, and logs `event` (a `user` revocation) in the same
   * transaction; returns the logged event.
   */
  advanceEpoch(userId: string, epoch: number, event: RevocationWindow): Promise<RevocationEvent>;
}

export interface NewSession extends Omit<Session, 'revokedAt'> {
  /** SHA-256 of the cookie value for cookie sessions; `null` for refresh families. */
  readonly secretHash: string | null;
  /** A login while the user's password change was pending: the session may only change it. */
  readonly passwordChangeRequired?: boolean;
}

export interface SessionStore {
  createSession(session: NewSession): Promise<void>;
  findSessionById(id: string): Promise<Session | null>;
  findSessionBySecretHash(secretHash: string): Promise<Session | null>;
  /** Active (not revoked, not expired at `now`) sessions of a user, newest first. */
  listActiveSessions(userId: string, now: number): Promise<readonly Session[]>;
  touchSession(id: string, lastSeenAt: number, idleExpiresAt: number): Promise<void>;
  /**
   * Remembers where a live session was last used from (risk checks compare the next use with it),
   * so one change of network or browser is reported once, not on every request after it.
   */
  updateSessionContext(id: string, ip: string | null, userAgent: string | null): Promise<void>;
  /** Whether the session was started while its user's password change was pending. */
  isSessionPasswordChangeRequired(id: string): Promise<boolean>;
  /**
   * Marks sessions revoked, deletes their refresh tokens and logs a `session` revocation event for
   * each, at `now` until `eventUntil(id)`, in one transaction: no revocation is recorded without
   * the event other instances learn of it from. Returns the events of the sessions that were
   * active and are now revoked (already revoked ones get none), so callers deliver each once.
   */
  revokeSessions(
    ids: readonly string[],
    now: number,
    reason: RevokeReason,
    eventUntil: (sessionId: string) => number,
  ): Promise<RevocationEvent[]>;
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
  /** Written in the same transaction when the rotation wins (one commit per refresh, not two). */
  readonly audit?: NewAuditEvent;
}

export interface RefreshTokenStore {
  createRefreshToken(record: {
    tokenHash: string;
    sessionId: string;
    createdAt: number;
  }): Promise<void>;
  findRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | null>;
  /** The token and its session in one read: what every refresh starts with. */
  findRefreshTokenWithSession(
    tokenHash: string,
  ): Promise<{ readonly token: RefreshTokenRecord; readonly session: Session } | null>;
  /**
   * Atomic compare-and-set: if the presented token has not been rotated yet, records its successor
   * (hash and sealed value), inserts the successor token, slides the session's idle expiry and
   * appends the audit event, all in one transaction, and returns `rotated`. If another request
   * rotated it first, changes nothing and returns `already_rotated`. Under any interleaving a
   * token gets at most one successor.
   */
  rotateRefreshToken(input: RotateRefreshTokenInput): Promise<'rotated' | 'already_rotated'>;
}

/** When a revocation event takes effect and until when it matters. */
export interface RevocationWindow {
  readonly at: number;
  readonly until: number;
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

/** Devices (user-agent family and network, as an opaque fingerprint) users have logged in from. */
export interface KnownDeviceStore {
  /** Whether the user logged in from this device before, and whether from any device at all. */
  findKnownDevice(
    userId: string,
    fingerprint: string,
  ): Promise<{ readonly known: boolean; readonly anyKnown: boolean }>;
  /** Adds the device, or moves its last sighting to `now`. */
  rememberDevice(userId: string, fingerprint: string, now: number): Promise<void>;
  /** Forgets devices last seen before `before`; returns how many. */
  pruneKnownDevices(before: number): Promise<number>;
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
    KnownDeviceStore,
    KeyStore {
  /** Resolves when the backing store answers; rejects otherwise (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
