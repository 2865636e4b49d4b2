// Table shapes as Kysely sees them. Times are integer milliseconds (BIGINT on PostgreSQL).
import type { Generated } from 'kysely';

export interface UsersTable {
  id: string;
  email: string;
  password_hash: string;
  /** JSON array of role names. */
  roles: string;
  status: string;
  epoch: number;
  created_at: number;
  updated_at: number;
  password_change_required: Generated<number>;
}

export interface SessionsTable {
  id: string;
  user_id: string;
  client_id: string;
  strategy: string;
  secret_hash: string | null;
  created_at: number;
  last_seen_at: number;
  idle_expires_at: number;
  expires_at: number;
  ip: string | null;
  user_agent: string | null;
  revoked_at: number | null;
  revoke_reason: string | null;
  password_change_required: Generated<number>;
}

export interface RefreshTokensTable {
  token_hash: string;
  session_id: string;
  created_at: number;
  rotated_at: number | null;
  successor_hash: string | null;
  successor_sealed: string | null;
}

export interface RevocationsTable {
  seq: Generated<number>;
  kind: string;
  subject_id: string;
  at: number;
  until: number;
}

export interface AuditEventsTable {
  id: Generated<number>;
  type: string;
  at: number;
  user_id: string | null;
  session_id: string | null;
  client_id: string | null;
  ip: string | null;
  user_agent: string | null;
  detail: string;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  public_jwk: string;
  private_jwk: string;
  created_at: number;
  retired_at: number | null;
}

export interface ThrottlesTable {
  key: string;
  failures: number;
  last_failure_at: number;
  blocked_until: number;
}

export interface KnownDevicesTable {
  user_id: string;
  fingerprint: string;
  first_seen_at: number;
  last_seen_at: number;
}

export interface Database {
  throttles: ThrottlesTable;
  known_devices: KnownDevicesTable;
  users: UsersTable;
  sessions: SessionsTable;
  refresh_tokens: RefreshTokensTable;
  revocations: RevocationsTable;
  audit_events: AuditEventsTable;
  signing_keys: SigningKeysTable;
}

export type SqlDialectName = 'sqlite' | 'postgres';
