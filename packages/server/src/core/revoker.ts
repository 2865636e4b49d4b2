// Every revocation goes through here: the store records it and, in the same transaction, logs a
// sequenced event; the hub then delivers the event at once to this process's revocation state and
// subscribers, and the fan-out to the other instances.
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

export class Revoker {
  constructor(private readonly deps: RevokerDeps) {}

  /**
   * Ends sessions (cookie or refresh family) and the access tokens that carry their `sid`.
   *
   * The shared cache is told first, then the store records the revocations and their log events in
   * one transaction. In this order, a crash between the steps never leaves a revoked session's
   * cookie accepted from the cache, nor a revocation that no instance hears of. When the store
   * then fails, the cookies stay refused while their sessions stay live in the store: a retry
   * finishes the revocation.
   */
  async revokeSessions(
    ids: readonly string[],
    reason: RevokeReason,
    actor: { userId?: string | null; context?: RequestContext } = {},
  ): Promise<string[]> {
    const now = this.deps.clock.now();
    const cached = this.deps.sessionCache ? await this.deps.store.findSessionSecretHashes(ids) : [];
    const untombstoned = await this.tombstone(cached, now);
    const events = await this.deps.store.revokeSessions(
      ids,
      now,
      reason,
      // A cached entry that could not be tombstoned stays live in the cache until the session
      // would have expired; every instance refuses it (SessionService.resume checks the
      // revocation state), so the event must last as long: in memory, in the log, across restarts.
      (id) => Math.max(now + this.deps.maxAccessTtlMs, untombstoned.get(id) ?? 0),
    );
    for (const event of events) {
      await this.deliver(event);
      await this.deps.audit.record('session_revoked', {
        userId: actor.userId ?? null,
        sessionId: event.subjectId,
        ...(actor.context ? { context: actor.context } : {}),
        detail: { reason },
      });
    }
    return events.map((event) => event.subjectId);
  }

  /** Denies one access token (RFC 7009) until `untilMs`, the last moment it could be accepted. */
  async revokeAccessToken(jti: string, untilMs: number): Promise<void> {
    const now = this.deps.clock.now();
    const event = { kind: 'token' as const, subjectId: jti, at: now, until: untilMs };
    await this.deliver(await this.deps.store.appendRevocation(event));
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
    const event = await this.deps.store.advanceEpoch(userId, epoch, {
      at: epoch * 1000,
      until: now + this.deps.maxAccessTtlMs,
    });
    await this.deliver(event);
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

  /** Hands a logged event to this process's revocation state and, at once, to the others. */
  private async deliver(event: RevocationEvent): Promise<void> {
    this.deps.hub.publish(event);
    // Best effort: the log is the record, which every instance follows anyway. A fan-out that
    // fails (Redis away) must not abort the revocation half-way.
    await this.deps.fanout?.(event).catch(() => undefined);
  }
}
