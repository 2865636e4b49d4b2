// An optional shared cache in front of the session store for cookie lookups (Redis in
// production). The store stays the authority: the cache only ever answers "here is the session
// as last seen", "revoked", or "ask the store".
import type { Session } from '../core/model.js';

/** What the cache keeps of a session: enough to authenticate a cookie, nothing more. */
export type CachedSession = Omit<Session, 'ip' | 'userAgent'> & {
  readonly ip: null;
  readonly userAgent: null;
};

export interface SessionCache {
  /**
   * The cached session for a secret hash; `'revoked'` when the cache knows it ended; `undefined`
   * when it does not know. Throws DependencyUnavailableError when unreachable (fail closed).
   */
  lookup(secretHash: string): Promise<CachedSession | 'revoked' | undefined>;
  /** Caches a live session until its absolute expiry, unless the key already exists. */
  remember(secretHash: string, session: Session, now: number): Promise<void>;
  /** Updates a cached session after its idle expiry slid; never revives a revoked one. */
  update(secretHash: string, session: Session, now: number): Promise<void>;
  /** Marks sessions revoked (by secret hash) until they would have expired anyway. */
  forget(
    entries: ReadonlyArray<{ secretHash: string; expiresAt: number }>,
    now: number,
  ): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
