// Risk checks at login and on every use of a session (refresh, cookie request): the request's
// context (network, user-agent family, place) against what the session or the user last showed.
// Each signal has an action from config: `audit` records a `suspicious_activity` event, `revoke`
// also ends the session, `reauthenticate` also ends it and tells the client to log in again. Events
// carry the signal and its evidence (families, networks, countries, distances), never a secret.
import { createHash } from 'node:crypto';
import type { LatchkeyConfig, RiskAction } from '../../config/types.js';
import type { GeoLocation, GeoResolver } from '../../ports/geo.js';
import type { AuditStore, KnownDeviceStore, SessionStore } from '../../ports/storage.js';
import type { AuditFields, AuditLog } from '../audit.js';
import type { Clock } from '../clock.js';
import type { RequestContext, Session, User } from '../model.js';
import type { Revoker } from '../revoker.js';
import { travelBetween, type Travel } from './geo.js';
import { networkOf } from './network.js';
import { UserAgentFamilies, type UserAgentFamily } from './user-agent.js';

/** Signal names as recorded in `suspicious_activity` events (`detail.signal`). */
export type RiskSignal =
  | 'refresh_token_reused'
  | 'user_agent_changed'
  | 'network_changed'
  | 'impossible_travel'
  | 'new_device'
  | 'user_report';

/**
 * What a use of a session may do next: go on, or not (the session has been ended). `reauthenticate`
 * is answered as `reauthentication_required`, `revoke` like any dead session.
 */
export type SessionUseVerdict = 'allow' | 'revoke' | 'reauthenticate';

/** A login goes ahead, or is refused before any session or token exists. */
export type LoginVerdict = 'allow' | 'refuse';

type Evidence = Record<string, string | number | boolean | null>;

interface Finding {
  readonly signal: RiskSignal;
  readonly action: Exclude<RiskAction, 'off'>;
  readonly evidence: Evidence;
}

interface Described {
  readonly network: string | null;
  readonly family: UserAgentFamily;
  /** Network and family in one string: two uses with the same key raise no session signal. */
  readonly key: string;
}

export interface RiskEngineDeps {
  readonly store: SessionStore & KnownDeviceStore & Pick<AuditStore, 'listAudit'>;
  readonly audit: AuditLog;
  readonly revoker: Revoker;
  readonly clock: Clock;
  /** `null`: no geo data, so no impossible travel. */
  readonly geo: GeoResolver | null;
  readonly config: LatchkeyConfig['risk'];
}

interface VerifiedContext {
  /** Address and user agent exactly as they came. */
  readonly exact: string;
  /** What they were judged by (Described.key). */
  readonly key: string;
}

const STRENGTH: Record<SessionUseVerdict, number> = { allow: 0, revoke: 1, reauthenticate: 2 };

/** How many sessions' last verified context this process remembers (see assessSessionUse). */
const MAX_VERIFIED = 10_000;

export class RiskEngine {
  private readonly families = new UserAgentFamilies();
  /** Session ID → the context last checked against the stored session and found unchanged. */
  private readonly verified = new Map<string, VerifiedContext>();

  constructor(private readonly deps: RiskEngineDeps) {}

  get enabled(): boolean {
    return this.deps.config.enabled;
  }

  /**
   * Checks one use of a live session (a refresh before it rotates, a cookie request) against the
   * context the session was last used from. Ends the session itself when an action says so.
   * `complete: false` means `session` came from a cache without its IP and user agent: unless this
   * process already checked the same context for it, the stored record is read.
   */
  async assessSessionUse(
    session: Session,
    context: RequestContext,
    options: { complete: boolean } = { complete: true },
  ): Promise<SessionUseVerdict> {
    if (!this.deps.config.enabled) return 'allow';
    // The exact address and user agent of the last check that passed: the same again (a busy
    // cookie session) needs neither parsing nor a read.
    const exact = `${context.ip ?? ''}\n${context.userAgent ?? ''}`;
    const verified = this.verified.get(session.id);
    if (verified?.exact === exact) {
      if (!options.complete) return 'allow';
      // Stored and current context the same strings (a steady client's refreshes): their parsed
      // forms are equal too, so there is nothing to compare.
      if (session.ip === context.ip && session.userAgent === context.userAgent) return 'allow';
    }
    const current = this.describe(context.ip, context.userAgent);
    let reference = session;
    if (!options.complete) {
      if (verified?.key === current.key) {
        this.remember(session.id, { exact, key: current.key });
        return 'allow';
      }
      const stored = await this.deps.store.findSessionById(session.id);
      if (!stored) return 'allow';
      reference = stored;
    }
    // A session started without any context (in the core, not over HTTP) has nothing to compare.
    if (reference.ip === null && reference.userAgent === null) return 'allow';
    const previous = this.describe(reference.ip, reference.userAgent);
    if (previous.key === current.key) {
      this.remember(session.id, { exact, key: current.key });
      return 'allow';
    }

    const now = this.deps.clock.now();
    const { actions } = this.deps.config;
    const findings: Finding[] = [];
    if (
      actions.userAgentChanged !== 'off' &&
      (previous.family.browser !== current.family.browser ||
        previous.family.os !== current.family.os)
    ) {
      findings.push({
        signal: 'user_agent_changed',
        action: actions.userAgentChanged,
        evidence: {
          previousBrowser: previous.family.browser,
          previousOs: previous.family.os,
          browser: current.family.browser,
          os: current.family.os,
        },
      });
    }
    const networkChanged =
      previous.network !== null && current.network !== null && previous.network !== current.network;
    if (networkChanged && actions.networkChanged !== 'off') {
      findings.push({
        signal: 'network_changed',
        action: actions.networkChanged,
        evidence: { previousNetwork: previous.network, network: current.network },
      });
    }
    if (networkChanged && actions.impossibleTravel !== 'off') {
      const travel = this.impossibleTravel(reference.ip, context.ip, now - reference.lastSeenAt);
      if (travel) {
        findings.push({
          signal: 'impossible_travel',
          action: actions.impossibleTravel,
          evidence: { ...travel, previousNetwork: previous.network, network: current.network },
        });
      }
    }

    const verdict = await this.record(findings, {
      userId: session.userId,
      sessionId: session.id,
      clientId: session.clientId,
      context,
    });
    if (verdict === 'allow') {
      // The new context becomes the reference: a drift that was let through is reported once.
      await this.deps.store.updateSessionContext(session.id, context.ip, context.userAgent);
      this.remember(session.id, { exact, key: current.key });
    } else {
      this.verified.delete(session.id);
      await this.deps.revoker.revokeSessions([session.id], 'suspicious_activity', {
        userId: session.userId,
        context,
      });
    }
    return verdict;
  }

  /**
   * Checks a password login that succeeded, before its session or token exists: a device the
   * user never logged in from, and travel from where the user was last seen. At login the
   * password just given is the re-authentication, so `reauthenticate` records only; `revoke`
   * refuses the login. A login that goes ahead makes its device known.
   */
  async assessLogin(user: User, clientId: string, context: RequestContext): Promise<LoginVerdict> {
    if (!this.deps.config.enabled) return 'allow';
    const now = this.deps.clock.now();
    const { actions } = this.deps.config;
    const current = this.describe(context.ip, context.userAgent);
    const fingerprint = deviceFingerprint(current);
    const findings: Finding[] = [];

    if (actions.newDevice !== 'off') {
      const device = await this.deps.store.findKnownDevice(user.id, fingerprint);
      // A user's very first login has nothing to compare with: that device becomes the first known.
      if (!device.known && device.anyKnown) {
        findings.push({
          signal: 'new_device',
          action: actions.newDevice,
          evidence: {
            browser: current.family.browser,
            os: current.family.os,
            network: current.network,
          },
        });
      }
    }
    if (actions.impossibleTravel !== 'off' && this.deps.geo !== null && context.ip !== null) {
      const last = await this.lastSeen(user.id, now);
      if (last && networkOf(last.ip) !== current.network) {
        const travel = this.impossibleTravel(last.ip, context.ip, now - last.at);
        if (travel) {
          findings.push({
            signal: 'impossible_travel',
            action: actions.impossibleTravel,
            evidence: { ...travel, previousNetwork: networkOf(last.ip), network: current.network },
          });
        }
      }
    }

    const atLogin = findings.map((finding) =>
      finding.action === 'reauthenticate' ? { ...finding, action: 'audit' as const } : finding,
    );
    const verdict = await this.record(atLogin, { userId: user.id, clientId, context });
    if (verdict !== 'allow') return 'refuse';
    await this.deps.store.rememberDevice(user.id, fingerprint, now);
    return 'allow';
  }

  /**
   * Adds the `suspicious_activity` event to a refresh-token reuse. The family is revoked by the
   * refresh grant whatever the config (API.md); `off` leaves out only this event.
   */
  async recordRefreshTokenReuse(
    session: Session,
    context: RequestContext,
    rotatedAt: number | null,
  ): Promise<void> {
    const { enabled, actions } = this.deps.config;
    if (!enabled || actions.refreshTokenReused === 'off') return;
    const evidence: Evidence = {
      previousNetwork: networkOf(session.ip),
      network: networkOf(context.ip),
    };
    if (rotatedAt !== null) {
      evidence['rotatedSecondsAgo'] = Math.round((this.deps.clock.now() - rotatedAt) / 1000);
    }
    await this.record([{ signal: 'refresh_token_reused', action: 'revoke', evidence }], {
      userId: session.userId,
      sessionId: session.id,
      clientId: session.clientId,
      context,
    });
  }

  /** Records findings; the verdict is the strongest action among them. */
  private async record(
    findings: readonly Finding[],
    fields: AuditFields,
  ): Promise<SessionUseVerdict> {
    let verdict: SessionUseVerdict = 'allow';
    for (const { signal, action, evidence } of findings) {
      await this.deps.audit.record('suspicious_activity', {
        ...fields,
        detail: { signal, action, ...evidence },
      });
      const next: SessionUseVerdict = action === 'audit' ? 'allow' : action;
      if (STRENGTH[next] > STRENGTH[verdict]) verdict = next;
    }
    return verdict;
  }

  private describe(ip: string | null, userAgent: string | null): Described {
    const network = networkOf(ip);
    const family = this.families.of(userAgent);
    return { network, family, key: `${network ?? '-'}|${family.browser}|${family.os}` };
  }

  private remember(sessionId: string, check: VerifiedContext): void {
    if (this.verified.size >= MAX_VERIFIED) this.verified.clear();
    this.verified.set(sessionId, check);
  }

  /** The travel between two addresses, when it is faster than `risk.maxTravelSpeedKmh`. */
  private impossibleTravel(
    fromIp: string | null,
    toIp: string | null,
    elapsedMs: number,
  ): (Travel & { previousCountry: string | null; country: string | null }) | null {
    const { geo } = this.deps;
    if (geo === null || fromIp === null || toIp === null) return null;
    const from: GeoLocation | null = geo.locate(fromIp);
    const to: GeoLocation | null = geo.locate(toIp);
    if (!from || !to) return null;
    const travel = travelBetween(from, to, elapsedMs);
    if (!travel || travel.speedKmh <= this.deps.config.maxTravelSpeedKmh) return null;
    return { ...travel, previousCountry: from.country, country: to.country };
  }

  /**
   * Where and when the user was last seen: the latest use of a live session (its remembered
   * address and last use), or the latest successful login (stateless `jwt` logins have no session).
   */
  private async lastSeen(userId: string, now: number): Promise<{ ip: string; at: number } | null> {
    const [sessions, logins] = await Promise.all([
      this.deps.store.listActiveSessions(userId, now),
      this.deps.store.listAudit({ userId, type: 'login_succeeded', limit: 1 }),
    ]);
    const seen = [
      ...sessions.map((s) => ({ ip: s.ip, at: s.lastSeenAt })),
      ...logins.map((e) => ({ ip: e.ip, at: e.at })),
    ].filter((use): use is { ip: string; at: number } => use.ip !== null);
    if (seen.length === 0) return null;
    return seen.reduce((latest, use) => (use.at > latest.at ? use : latest));
  }
}

/**
 * A device as the new-device check knows it: browser family, OS family and network, hashed into a
 * short fixed-size key (not a secret: the inputs are few and guessable).
 */
export function deviceFingerprint(described: {
  network: string | null;
  family: UserAgentFamily;
}): string {
  const text = `${described.family.browser}|${described.family.os}|${described.network ?? '-'}`;
  return createHash('sha256').update(text).digest('base64url').slice(0, 22);
}
