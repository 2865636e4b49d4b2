// Cookie sessions cached in this process, for the embedded single-instance deployment (SQLite):
// a cookie request then needs no database read. Correct because every revocation in this
// process tombstones the entry before it is answered (Revoker), and SessionService.resume also
// checks the revocation state, which learns other processes' revocations from the log.
import type { Session } from '../../core/model.js';
import type { CachedSession, SessionCache } from '../../ports/session-cache.js';

type Entry =
  { readonly session: CachedSession; readonly until: number } | { readonly revokedUntil: number };

export class MemorySessionCache implements SessionCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly clock: { now(): number },
    private readonly maxEntries = 100_000,
  ) {}

  lookup(secretHash: string): Promise<CachedSession | 'revoked' | undefined> {
    const entry = this.entries.get(secretHash);
    if (!entry) return Promise.resolve(undefined);
    const now = this.clock.now();
    if ('revokedUntil' in entry) {
      if (entry.revokedUntil > now) return Promise.resolve('revoked');
    } else if (entry.until > now) {
      return Promise.resolve(entry.session);
    }
    this.entries.delete(secretHash);
    return Promise.resolve(undefined);
  }

  remember(secretHash: string, session: Session, now: number): Promise<void> {
    if (!this.entries.has(secretHash)) this.put(secretHash, session, now);
    return Promise.resolve();
  }

  update(secretHash: string, session: Session, now: number): Promise<void> {
    const entry = this.entries.get(secretHash);
    if (entry && !('revokedUntil' in entry)) this.put(secretHash, session, now);
    return Promise.resolve();
  }

  forget(entries: ReadonlyArray<{ secretHash: string; expiresAt: number }>): Promise<void> {
    for (const { secretHash, expiresAt } of entries) {
      this.entries.set(secretHash, { revokedUntil: expiresAt });
    }
    return Promise.resolve();
  }

  ping(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.entries.clear();
    return Promise.resolve();
  }

  private put(secretHash: string, session: Session, now: number): void {
    const until = Math.min(session.idleExpiresAt, session.expiresAt);
    if (until <= now) return;
    if (this.entries.size >= this.maxEntries) {
      // Maps iterate in insertion order: drop the oldest entry.
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(secretHash, {
      session: { ...session, ip: null, userAgent: null },
      until,
    });
  }
}
