// Every revocation goes through here: the store records it, the revocation log gets a sequenced
// event, and the hub delivers it at once to this process's revocation state and subscribers.
import { setTimeout as sleep } from 'node:timers/promises';
import type { SessionCache } from '../ports/session-cache.js';
import type { RevocationLog, SessionStore, UserStore } from '../ports/storage.js';
import type { AuditLog } from './audit.js';
import type { Clock } from './clock.js';
import { DependencyUnavailableError } from './errors.js';
import type { RequestContext, RevocationEvent, RevokeReason } from './model.js';
import type { RevocationHub } from './revocation-hub.js';

export interface RevokerDeps {
  readonly store: SessionStore & RevocationLog & UserStore;
  readonly hub: RevocationHub;
  readonly audit: AuditLog;
  readonly clock: Clock;
  /** The longest access-token lifetime of any client (plus leeway): how long an event matters. */
  readonly maxAccessTtlMs: number;
  /** A shared session cache to clear before a revocation is answered. */
  readonly sessionCache?: SessionCache | undefined;
  /** Tells other instances at once (Redis pub/sub); the log reaches them anyway, more slowly. */
  readonly fanout?: ((event: RevocationEvent) => Promise<void>) | undefined;
}

/**
 * Waits between attempts to log an event after the store took the change itself (about 2 s in
 * all): a lost connection must not leave a revocation that no instance hears of.
 */
const APPEND_RETRY_DELAYS_MS = [25, 50, 100, 200, 400, 400, 400, 400];

export class Revoker {
  constructor(private readonly deps: RevokerDeps) {}

  /** Ends sessions (cookie or refresh family) and the access tokens that carry their `sid`. */
  async revokeSessions(
    ids: readonly string[],
    reason: RevokeReason,
    actor: { userId?: string | null; context?: RequestContext } = {},
  ): Promise<string[]> {
    const now = this.deps.clock.now();
    const cached = this.deps.sessionCache ? await this.deps.store.findSessionSecretHashes(ids) : [];
    const revoked = await this.deps.store.revokeSessions(ids, now, reason);
    const revokedIds = new Set(revoked);
    const untombstoned = await this.tombstone(
      cached.filter((entry) => revokedIds.has(entry.id)),
      now,
    );
    for (const id of revoked) {
      await this.publish({
        kind: 'session',
        subjectId: id,
        at: now,
        // A cached entry that could not be tombstoned stays live in the cache until the session
        // would have expired; every instance refuses it (SessionService.resume checks the
        // revocation state), so the event must last as long: in memory, in the log, across restarts.
        until: Math.max(now + this.deps.maxAccessTtlMs, untombstoned.get(id) ?? 0),
      });
      await this.deps.audit.record('session_revoked', {
        userId: actor.userId ?? null,
        sessionId: id,
        ...(actor.context ? { context: actor.context } : {}),
        detail: { reason },
      });
    }
    return revoked;
  }

  /** Denies one access token (RFC 7009) until `untilMs`, the last moment it could be accepted. */
  async revokeAccessToken(jti: string, untilMs: number): Promise<void> {
    const now = this.deps.clock.now();
    await this.publish({ kind: 'token', subjectId: jti, at: now, until: untilMs });
  }

  /**
   * Moves the user's epoch: every access token issued before now becomes invalid. The epoch is the
   * next whole second, because `iat` has one-second resolution: tokens issued from then on (the
   * token service never issues an `iat` before the epoch) stay valid.
   */
  async moveUserEpoch(userId: string): Promise<number> {
    const now = this.deps.clock.now();
    // floor + 1, not ceil: a token issued at an exact whole second must not survive.
    const epoch = Math.floor(now / 1000) + 1;
    await this.deps.store.advanceEpoch(userId, epoch);
    await this.publish({
      kind: 'user',
      subjectId: userId,
      at: epoch * 1000,
      until: now + this.deps.maxAccessTtlMs,
    });
    return epoch;
  }

  /**
   * Replaces cached cookie sessions with tombstones. When the cache is unreachable the revocation
   * still goes ahead (it is recorded and logged; cookie checks fail closed meanwhile): returns the
   * sessions left untombstoned, with their expiry.
   */
  private async tombstone(
    entries: ReadonlyArray<{ id: string; secretHash: string; expiresAt: number }>,
    now: number,
  ): Promise<Map<string, number>> {
    try {
      await this.deps.sessionCache?.forget(entries, now);
      return new Map();
    } catch (error) {
      if (!(error instanceof DependencyUnavailableError)) throw error;
      return new Map(entries.map((entry) => [entry.id, entry.expiresAt]));
    }
  }

  private async publish(event: Omit<RevocationEvent, 'seq'>): Promise<void> {
    const stored = await this.append(event);
    this.deps.hub.publish(stored);
    // Best effort: the log is the record, which every instance follows anyway. A fan-out that
    // fails (Redis away) must not abort the revocation half-way.
    await this.deps.fanout?.(stored).catch(() => undefined);
  }

  /**
   * Appends to the log, again while the database is unreachable. By now the store has recorded the
   * revocation (or epoch), so giving up at once would leave it unknown to every instance's
   * revocation state: access tokens of a revoked session would live on until they expire, and a
   * retrying client would find nothing left to revoke. A duplicate event (an insert that committed
   * but whose answer was lost) is harmless; a missing one is not.
   */
  private async append(event: Omit<RevocationEvent, 'seq'>): Promise<RevocationEvent> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.deps.store.appendRevocation(event);
      } catch (error) {
        const delay = APPEND_RETRY_DELAYS_MS[attempt];
        if (!(error instanceof DependencyUnavailableError) || delay === undefined) throw error;
        await sleep(delay);
      }
    }
  }
}
