// The OAuth-shaped grants of the token strategies: password login and refresh-token rotation with
// its published race contract (API.md "Refresh rotation").
import type { ClientConfig } from '../config/types.js';
import type { RefreshTokenStore, SessionStore } from '../ports/storage.js';
import type { AccessTokens, IssuedAccessToken } from './access-tokens.js';
import type { AccountService } from './accounts.js';
import type { AuditLog } from './audit.js';
import type { Clock } from './clock.js';
import type { RefreshTokenRecord, RequestContext, Session } from './model.js';
import {
  REFRESH_TOKEN_PREFIX,
  generateRefreshToken,
  hashSecret,
  type RandomSource,
} from './random.js';
import type { Revoker } from './revoker.js';
import type { RiskEngine } from './risk/risk-engine.js';
import { openSuccessor, sealSuccessor } from './sealed-successor.js';
import { isSessionLive, type SessionService } from './sessions.js';

export type GrantFailure =
  | 'invalid_client'
  | 'unauthorized_client'
  | 'invalid_grant'
  /** Answered as `invalid_grant`; told apart for metrics. The family is already revoked. */
  | 'refresh_token_reused'
  | 'session_limit'
  /** A risk check refused the login (action `revoke`); no session or token was made. */
  | 'login_refused'
  /** A risk check ended the family (action `reauthenticate`): the user must log in again. */
  | 'reauthentication_required';

export type GrantResult =
  | {
      readonly ok: true;
      readonly accessToken: IssuedAccessToken;
      readonly refreshToken?: string;
      readonly session?: Session;
      /** The tokens come from a login made while a password change is pending. */
      readonly passwordChangeRequired: boolean;
    }
  | { readonly ok: false; readonly error: GrantFailure }
  | { readonly ok: false; readonly error: 'rate_limited'; readonly retryAfterMs: number };

export interface TokenGrantDeps {
  readonly accounts: AccountService;
  readonly sessions: SessionService;
  readonly accessTokens: AccessTokens;
  readonly store: RefreshTokenStore & SessionStore;
  readonly revoker: Revoker;
  readonly audit: AuditLog;
  readonly risk: RiskEngine;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly clients: ReadonlyMap<string, ClientConfig>;
  /** Seconds a rotated token's retry still gets the same successor. */
  readonly refreshReuseGrace: number;
}

/** `lkr_` + 43 base64url characters (32 bytes). */
const REFRESH_TOKEN_SHAPE = /^lkr_[A-Za-z0-9_-]{43}$/;

const fail = (error: GrantFailure): GrantResult => ({ ok: false, error });

export class TokenGrants {
  constructor(private readonly deps: TokenGrantDeps) {}

  private tokenClient(clientId: string): ClientConfig | GrantFailure {
    const client = this.deps.clients.get(clientId);
    if (!client) return 'invalid_client';
    if (client.strategy === 'session') return 'unauthorized_client';
    return client;
  }

  async passwordGrant(
    email: string,
    password: string,
    clientId: string,
    context: RequestContext,
  ): Promise<GrantResult> {
    const client = this.tokenClient(clientId);
    if (typeof client === 'string') return fail(client);

    const outcome = await this.deps.accounts.authenticate(email, password, context);
    if (!outcome.ok && outcome.retryAfterMs !== undefined) {
      return { ok: false, error: 'rate_limited', retryAfterMs: outcome.retryAfterMs };
    }
    if (!outcome.ok) {
      await this.deps.audit.record('login_failed', {
        userId: outcome.userId,
        clientId: client.id,
        context,
        detail: { reason: 'invalid_credentials' },
      });
      return fail('invalid_grant');
    }
    const { user } = outcome;
    if ((await this.deps.risk.assessLogin(user, client.id, context)) === 'refuse') {
      await this.deps.audit.record('login_failed', {
        userId: user.id,
        clientId: client.id,
        context,
        detail: { reason: 'suspicious_activity' },
      });
      return fail('login_refused');
    }
    const { passwordChangeRequired } = user;
    if (client.strategy === 'jwt') {
      const accessToken = await this.deps.accessTokens.issue(user, client);
      await this.deps.audit.record('login_succeeded', {
        userId: user.id,
        clientId: client.id,
        context,
      });
      return { ok: true, accessToken, passwordChangeRequired };
    }
    const started = await this.deps.sessions.start(user, client, context);
    if ('refused' in started) return fail('session_limit');
    const accessToken = await this.deps.accessTokens.issue(user, client, started.session.id);
    await this.deps.audit.record('login_succeeded', {
      userId: user.id,
      sessionId: started.session.id,
      clientId: client.id,
      context,
    });
    return {
      ok: true,
      accessToken,
      refreshToken: started.secret,
      session: started.session,
      passwordChangeRequired,
    };
  }

  async refreshGrant(
    presented: string,
    clientId: string,
    context: RequestContext,
  ): Promise<GrantResult> {
    const client = this.tokenClient(clientId);
    if (typeof client === 'string') return fail(client);
    if (client.strategy !== 'hybrid') return fail('unauthorized_client');
    if (!presented.startsWith(REFRESH_TOKEN_PREFIX) || !REFRESH_TOKEN_SHAPE.test(presented)) {
      return fail('invalid_grant');
    }

    const presentedHash = hashSecret(presented);
    const found = await this.deps.store.findRefreshTokenWithSession(presentedHash);
    if (!found) return fail('invalid_grant');
    const { session } = found;
    let record: RefreshTokenRecord | null = found.token;
    // A token is bound to the client it was issued to (RFC 6749 section 6).
    if (session.clientId !== client.id) return fail('invalid_grant');
    const now = this.deps.clock.now();
    if (!isSessionLive(session, now)) {
      if (session.revokedAt === null) {
        await this.deps.revoker.revokeSessions([session.id], 'expired', {
          userId: session.userId,
          context,
        });
      }
      return fail('invalid_grant');
    }
    const user = await this.deps.accounts.findUser(session.userId);
    if (!user || user.status !== 'active') return fail('invalid_grant');

    let refreshToken: string | null = null;
    if (record.rotatedAt === null) {
      // Checked before rotating, so a refused refresh rotates nothing (the check ends the family).
      const verdict = await this.deps.risk.assessSessionUse(session, context);
      if (verdict === 'reauthenticate') return fail('reauthentication_required');
      if (verdict === 'revoke') return fail('invalid_grant');
      const successor = generateRefreshToken(this.deps.random);
      const outcome = await this.deps.store.rotateRefreshToken({
        presentedHash,
        successor: {
          tokenHash: hashSecret(successor),
          sealed: sealSuccessor(presented, successor),
        },
        now,
        idleExpiresAt: this.deps.sessions.slidIdleExpiry(session, now),
        audit: this.deps.audit.event('token_refreshed', {
          userId: user.id,
          sessionId: session.id,
          clientId: client.id,
          context,
        }),
      });
      if (outcome === 'rotated') {
        refreshToken = successor;
      } else {
        // Lost the race to a concurrent refresh: answer as its retry.
        record = await this.deps.store.findRefreshToken(presentedHash);
        if (!record) return fail('invalid_grant');
      }
    }
    if (refreshToken === null) {
      refreshToken = await this.successorWithinGrace(presented, record, now);
      // A retry inside the grace window rotated nothing, but who made it is worth keeping (it can
      // be a thief racing the client): the rotation's own event was written with the rotation.
      if (refreshToken !== null) {
        await this.deps.audit.record('token_refreshed', {
          userId: user.id,
          sessionId: session.id,
          clientId: client.id,
          context,
          detail: { graceRetry: true },
        });
      }
    }
    if (refreshToken === null) {
      await this.deps.revoker.revokeSessions([session.id], 'refresh_token_reused', {
        userId: session.userId,
        context,
      });
      await this.deps.audit.record('refresh_token_reused', {
        userId: session.userId,
        sessionId: session.id,
        clientId: client.id,
        context,
      });
      await this.deps.risk.recordRefreshTokenReuse(session, context, record.rotatedAt);
      return fail('refresh_token_reused');
    }

    const accessToken = await this.deps.accessTokens.issue(user, client, session.id);
    const passwordChangeRequired =
      user.passwordChangeRequired &&
      (await this.deps.sessions.isPasswordChangeRequired(session.id));
    return { ok: true, accessToken, refreshToken, session, passwordChangeRequired };
  }

  /**
   * The successor a retried token already got, if the retry is allowed: only the immediate parent
   * of the family's current token, and only within the grace window. `null` means reuse.
   */
  private async successorWithinGrace(
    presented: string,
    record: {
      rotatedAt: number | null;
      successorHash: string | null;
      successorSealed: string | null;
    },
    now: number,
  ): Promise<string | null> {
    if (
      record.rotatedAt === null ||
      record.successorHash === null ||
      record.successorSealed === null
    ) {
      return null;
    }
    if (now - record.rotatedAt > this.deps.refreshReuseGrace * 1000) return null;
    const successor = await this.deps.store.findRefreshToken(record.successorHash);
    if (!successor || successor.rotatedAt !== null) return null;
    return openSuccessor(presented, record.successorSealed, record.successorHash);
  }
}
