// Domain records as the core sees them. Times are milliseconds since the Unix epoch.
import type { Strategy } from '../config/types.js';

export type UserStatus = 'active' | 'banned';

export interface User {
  readonly id: string;
  readonly email: string;
  readonly roles: readonly string[];
  readonly status: UserStatus;
  /**
   * Whole seconds: access tokens with `iat` before it are invalid. Kept in seconds because `iat`
   * is, and set to the next whole second when moved so that tokens issued later in the same second stay valid.
   */
  readonly epoch: number;
  readonly createdAt: number;
  /**
   * Set by "this wasn't me" (a session report): logins made while it is set may do nothing but
   * change the password, which clears it.
   */
  readonly passwordChangeRequired: boolean;
}

export interface UserWithPassword extends User {
  readonly passwordHash: string;
}

export type RevokeReason =
  | 'logout'
  | 'user_revoked'
  | 'admin_revoked'
  | 'refresh_token_reused'
  | 'password_changed'
  | 'user_banned'
  | 'single_session'
  | 'session_limit'
  | 'expired'
  | 'token_revoked'
  | 'reported'
  | 'suspicious_activity';

export interface Session {
  readonly id: string;
  readonly userId: string;
  readonly clientId: string;
  readonly strategy: Exclude<Strategy, 'jwt'>;
  readonly createdAt: number;
  readonly lastSeenAt: number;
  readonly idleExpiresAt: number;
  readonly expiresAt: number;
  readonly ip: string | null;
  readonly userAgent: string | null;
  readonly revokedAt: number | null;
}

export interface RefreshTokenRecord {
  readonly tokenHash: string;
  readonly sessionId: string;
  readonly createdAt: number;
  readonly rotatedAt: number | null;
  readonly successorHash: string | null;
  /** The successor token encrypted under a key derived from this token (see refresh-tokens). */
  readonly successorSealed: string | null;
}

export type RevocationKind = 'session' | 'user' | 'token';

export interface RevocationEvent {
  readonly seq: number;
  readonly kind: RevocationKind;
  /** Public session ID, user ID or access-token `jti`. */
  readonly subjectId: string;
  readonly at: number;
  /** The last moment an affected access token could still be valid. */
  readonly until: number;
}

export type AuditEventType =
  | 'signup'
  | 'login_succeeded'
  | 'login_failed'
  | 'session_revoked'
  | 'token_refreshed'
  | 'refresh_token_reused'
  | 'password_changed'
  | 'user_banned'
  | 'user_unbanned'
  | 'suspicious_activity'
  | 'key_rotated';

export interface AuditEvent {
  readonly id: number;
  readonly type: AuditEventType;
  readonly at: number;
  readonly userId: string | null;
  readonly sessionId: string | null;
  readonly clientId: string | null;
  readonly ip: string | null;
  readonly userAgent: string | null;
  /** Never a secret: reasons, signal names, evidence. */
  readonly detail: Readonly<Record<string, string | number | boolean | null>>;
}

export type NewAuditEvent = Omit<AuditEvent, 'id'>;

export interface SigningKeyRecord {
  readonly kid: string;
  readonly alg: string;
  /** JSON of the public JWK. */
  readonly publicJwk: string;
  /** JSON of the private JWK. Never leaves the server. */
  readonly privateJwk: string;
  readonly createdAt: number;
  /** When another key replaced it for signing; `null` while it is the signing key. */
  readonly retiredAt: number | null;
}

/** Who did it, from where: stored with sessions and audit events. */
export interface RequestContext {
  readonly ip: string | null;
  readonly userAgent: string | null;
}
