// Sessions: one login on one device. A cookie session holds the hash of its cookie secret; a
// hybrid session *is* its refresh-token family.
import type { ClientConfig, LatchkeyConfig } from '../config/types.js';
import type { SessionStore, RefreshTokenStore } from '../ports/storage.js';
import type { Clock } from './clock.js';
import type { RequestContext, Session, User } from './model.js';
import {
  generateId,
  generateRefreshToken,
  generateSessionSecret,
  hashSecret,
  type RandomSource,
} from './random.js';
import type { RevocationState } from './revocation-state.js';
import type { Revoker } from './revoker.js';
import type { RiskEngine } from './risk/risk-engine.js';
import type { SessionCache } from '../ports/session-cache.js';

export interface SessionServiceDeps {
  readonly store: SessionStore & RefreshTokenStore;
  readonly revoker: Revoker;
  readonly revocations: RevocationState;
  /** Optional shared cache for cookie lookups (Redis). */
  readonly cache?: SessionCache | undefined;
  /** Risk checks on every cookie use; none when absent. */
  readonly risk?: RiskEngine | undefined;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly config: Pick<LatchkeyConfig, 'session' | 'tokens'>;
}

export interface StartedSession {
  readonly session: Session;
  /** The cookie value (cookie sessions) or the first refresh token (hybrid): shown once. */
  readonly secret: string;
}

export type StartSessionResult = StartedSession | { readonly refused: 'session_limit' };

export type ResumeResult =
  | { readonly ok: true; readonly session: Session }
  | {
      readonly ok: false;
      /** `reauthenticate`: a risk check ended the session and the user must log in again. */
      readonly reason: 'unknown' | 'expired' | 'reauthenticate';
    };

/** A busy session writes its sliding idle expiry at most this often. */
export const SLIDE_INTERVAL_MS = 60_000;

/** Cookie values are 32 random bytes in base64url; anything else is not worth a lookup. */
const SESSION_SECRET_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export function isSessionLive(session: Session, now: number): boolean {
  return session.revokedAt === null && now < session.idleExpiresAt && now < session.expiresAt;
}

export class SessionService {
  constructor(private readonly deps: SessionServiceDeps) {}

  private lifetimes(strategy: Session['strategy']): { idleMs: number; absoluteMs: number } {
    const { session, tokens } = this.deps.config;
    return strategy === 'session'
      ? { idleMs: session.idleTtl * 1000, absoluteMs: session.absoluteTtl * 1000 }
      : { idleMs: tokens.refreshIdleTtl * 1000, absoluteMs: tokens.refreshAbsoluteTtl * 1000 };
  }

  /** Starts a new session: always a fresh ID and secret, never one the client proposed. */
  async start(
    user: User,
    client: ClientConfig,
    context: RequestContext,
  ): Promise<StartSessionResult> {
    if (client.strategy === 'jwt') throw new Error('jwt clients have no sessions');
    const allowed = await this.makeRoom(user, client, context);
    if (!allowed) return { refused: 'session_limit' };

    const now = this.deps.clock.now();
    const { idleMs, absoluteMs } = this.lifetimes(client.strategy);
    const secret =
      client.strategy === 'session'
        ? generateSessionSecret(this.deps.random)
        : generateRefreshToken(this.deps.random);
    const session: Session = {
      id: generateId('ses', now, this.deps.random),
      userId: user.id,
      clientId: client.id,
      strategy: client.strategy,
      createdAt: now,
      lastSeenAt: now,
      idleExpiresAt: now + idleMs,
      expiresAt: now + absoluteMs,
      ip: context.ip,
      userAgent: context.userAgent,
      revokedAt: null,
    };
    await this.deps.store.createSession({
      ...session,
      secretHash: client.strategy === 'session' ? hashSecret(secret) : null,
      passwordChangeRequired: user.passwordChangeRequired,
    });
    if (client.strategy === 'hybrid') {
      await this.deps.store.createRefreshToken({
        tokenHash: hashSecret(secret),
        sessionId: session.id,
        createdAt: now,
      });
    }
    return { session, secret };
  }

  /** Applies `singleSession` and `session.maxPerUser`; false when the login must be refused. */
  private async makeRoom(
    user: User,
    client: ClientConfig,
    context: RequestContext,
  ): Promise<boolean> {
    const now = this.deps.clock.now();
    let live = await this.deps.store.listActiveSessions(user.id, now);
    if (client.singleSession) {
      const sameClient = live.filter((s) => s.clientId === client.id).map((s) => s.id);
      await this.deps.revoker.revokeSessions(sameClient, 'single_session', {
        userId: user.id,
        context,
      });
      live = live.filter((s) => s.clientId !== client.id);
    }
    const { maxPerUser, onLimit } = this.deps.config.session;
    if (maxPerUser === null || live.length < maxPerUser) return true;
    if (onLimit === 'deny') return false;
    // Newest first: evict from the end until one slot is free.
    const evict = live.slice(maxPerUser - 1).map((s) => s.id);
    await this.deps.revoker.revokeSessions(evict, 'session_limit', { userId: user.id, context });
    return true;
  }

  /**
   * The live cookie session for a cookie value, used from `context`. Idle expiry slides on use,
   * written at most once a minute so a busy session is not a write per request. Risk checks run on
   * every use; one that ends the session makes this a failure.
   */
  async resume(secret: string, context: RequestContext): Promise<ResumeResult> {
    if (!SESSION_SECRET_SHAPE.test(secret)) return { ok: false, reason: 'unknown' };
    const secretHash = hashSecret(secret);
    const { cache } = this.deps;
    const cached = cache ? await cache.lookup(secretHash) : undefined;
    if (cached === 'revoked') return { ok: false, reason: 'unknown' };
    const session = cached ?? (await this.deps.store.findSessionBySecretHash(secretHash));
    if (!session || session.strategy !== 'session') return { ok: false, reason: 'unknown' };
    // Also what this process heard through the revocation feed: a cached entry whose tombstone
    // could not be written (Redis briefly away) is still refused.
    if (this.deps.revocations.isSessionRevoked(session.id)) return { ok: false, reason: 'unknown' };
    const now = this.deps.clock.now();
    if (!isSessionLive(session, now)) {
      await this.deps.revoker.revokeSessions([session.id], 'expired', { userId: session.userId });
      return { ok: false, reason: 'expired' };
    }
    if (this.deps.risk) {
      // A cached session lacks its IP and user agent; the engine reads the stored one when needed.
      const verdict = await this.deps.risk.assessSessionUse(session, context, {
        complete: cached === undefined,
      });
      if (verdict === 'reauthenticate') return { ok: false, reason: 'reauthenticate' };
      if (verdict === 'revoke') return { ok: false, reason: 'unknown' };
    }
    if (cache && cached === undefined) await cache.remember(secretHash, session, now);
    if (now - session.lastSeenAt < SLIDE_INTERVAL_MS) return { ok: true, session };
    const slid = { ...session, lastSeenAt: now, idleExpiresAt: this.slidIdleExpiry(session, now) };
    await this.deps.store.touchSession(session.id, slid.lastSeenAt, slid.idleExpiresAt);
    await cache?.update(secretHash, slid, now);
    return { ok: true, session: slid };
  }

  /** A new cookie secret for the same session (after a privilege change); the old one stops working. */
  async renewSecret(session: Session, oldSecret: string): Promise<string> {
    const secret = generateSessionSecret(this.deps.random);
    await this.deps.store.replaceSessionSecret(session.id, hashSecret(secret));
    await this.deps.cache?.forget(
      [{ secretHash: hashSecret(oldSecret), expiresAt: session.expiresAt }],
      this.deps.clock.now(),
    );
    return secret;
  }

  list(userId: string): Promise<readonly Session[]> {
    return this.deps.store.listActiveSessions(userId, this.deps.clock.now());
  }

  async find(id: string): Promise<Session | null> {
    return this.deps.store.findSessionById(id);
  }

  /** Whether the session was started while its user's password change was pending. */
  isPasswordChangeRequired(id: string): Promise<boolean> {
    return this.deps.store.isSessionPasswordChangeRequired(id);
  }

  /** The idle-expiry extension a use of the session earns (refresh families and cookies alike). */
  slidIdleExpiry(session: Session, now: number): number {
    return Math.min(now + this.lifetimes(session.strategy).idleMs, session.expiresAt);
  }
}
