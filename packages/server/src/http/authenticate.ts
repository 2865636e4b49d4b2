// Who is calling. A request with an Authorization header is judged by it alone: a bad Bearer
// token never falls back to a cookie.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { ClientConfig, ResourceServerConfig, Strategy } from '../config/types.js';
import type { AccessTokenClaims, AccessTokens } from '../core/access-tokens.js';
import type { AccountService } from '../core/accounts.js';
import { ProblemError, invalidBearerToken, type ProblemCode } from '../core/errors.js';
import type { RequestContext, Session, User } from '../core/model.js';
import type { SessionService } from '../core/sessions.js';
import { requestContext } from './serialize.js';
import type { SessionCookie } from './session-cookie.js';

export interface Principal {
  readonly user: User;
  readonly strategy: Strategy;
  readonly clientId: string;
  /** The session (cookie or refresh family) behind this request, if any. */
  readonly sessionId: string | null;
  /** When the credential stops working, in ms. */
  readonly expiresAt: number;
  readonly via: 'bearer' | 'cookie';
  readonly claims?: AccessTokenClaims;
  /** Cookie requests: the session and its secret (the CSRF token is derived from it). */
  readonly cookieSession?: { readonly session: Session; readonly secret: string };
  /**
   * A login made while the user's password change was pending ("this wasn't me"): until the
   * password changes, it may do little else (see route-table.ts).
   */
  readonly passwordChangeRequired: boolean;
}

/**
 * The token of `Bearer <token>` (RFC 6750: the scheme in any case, then spaces), trailing
 * whitespace dropped, or undefined. Read by hand: a regular expression over a 500-byte header cost
 * a microsecond a request. What the token holds is for verification to judge: anything but a
 * strict compact JWS, whitespace inside included, is refused there with the same answer.
 */
export function bearerToken(header: string): string | undefined {
  if (header.charCodeAt(6) !== 0x20 || header.slice(0, 6).toLowerCase() !== 'bearer') {
    return undefined;
  }
  let start = 7;
  while (header.charCodeAt(start) === 0x20) start++;
  const token = header.slice(start).trimEnd();
  return token === '' ? undefined : token;
}

export interface AuthenticatorDeps {
  readonly accessTokens: AccessTokens;
  readonly accounts: AccountService;
  readonly clients: ReadonlyMap<string, ClientConfig>;
  readonly sessions: SessionService;
  readonly cookie: SessionCookie;
}

/** A 401 that also tells the browser to drop its session cookie. */
export class CookieRejected extends ProblemError {}

const COOKIE_FAILURES = {
  unknown: 'unauthenticated',
  expired: 'session_expired',
  reauthenticate: 'reauthentication_required',
} as const satisfies Record<string, ProblemCode>;

export class Authenticator {
  constructor(private readonly deps: AuthenticatorDeps) {}

  /** The principal, or throws the 401 the route should answer. */
  async authenticate(request: FastifyRequest): Promise<Principal> {
    const header = request.headers.authorization;
    if (header !== undefined) return this.authenticateBearer(header);
    const secret = this.deps.cookie.read(request);
    if (secret !== undefined) return this.authenticateCookie(secret, requestContext(request));
    throw new ProblemError('unauthenticated', undefined, { 'www-authenticate': 'Bearer' });
  }

  private async authenticateCookie(secret: string, context: RequestContext): Promise<Principal> {
    const resumed = await this.deps.sessions.resume(secret, context);
    if (!resumed.ok) throw new CookieRejected(COOKIE_FAILURES[resumed.reason]);
    const { session } = resumed;
    const user = await this.deps.accounts.findUser(session.userId);
    if (!user || user.status !== 'active') throw new CookieRejected('unauthenticated');
    return {
      user,
      strategy: 'session',
      clientId: session.clientId,
      sessionId: session.id,
      expiresAt: Math.min(session.idleExpiresAt, session.expiresAt),
      via: 'cookie',
      cookieSession: { session, secret },
      passwordChangeRequired: await this.isPasswordChangeRequired(user, session.id),
    };
  }

  /**
   * Whether this credential came from a login made while the user's password change was pending.
   * Read only for flagged users. A stateless token (no session) of a flagged user always did: the
   * report that set the flag moved the user's epoch, ending every older one.
   */
  private async isPasswordChangeRequired(user: User, sessionId: string | null): Promise<boolean> {
    if (!user.passwordChangeRequired) return false;
    if (sessionId === null) return true;
    return this.deps.sessions.isPasswordChangeRequired(sessionId);
  }

  private async authenticateBearer(header: string): Promise<Principal> {
    const token = bearerToken(header);
    if (token === undefined) throw invalidBearerToken();
    const claims = await this.deps.accessTokens.verify(token);
    if (!claims) throw invalidBearerToken();
    // The stored user is the authority on status and epoch, even before the revocation state
    // of this process has heard of a change made elsewhere.
    const user = await this.deps.accounts.findUser(claims.sub);
    if (!user || user.status !== 'active' || claims.iat < user.epoch) throw invalidBearerToken();
    const client = this.deps.clients.get(claims.client_id);
    if (!client) throw invalidBearerToken();
    return {
      user,
      strategy: client.strategy,
      clientId: client.id,
      sessionId: claims.sid ?? null,
      expiresAt: claims.exp * 1000,
      via: 'bearer',
      claims,
      passwordChangeRequired: await this.isPasswordChangeRequired(user, claims.sid ?? null),
    };
  }
}

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * The resource server named by HTTP Basic credentials, or `null`. Secrets are compared as digests
 * in constant time, and every configured server is checked so timing does not tell which matched.
 */
export function authenticateResourceServer(
  header: string | undefined,
  servers: readonly ResourceServerConfig[],
): ResourceServerConfig | null {
  const encoded =
    header === undefined ? undefined : /^Basic +([A-Za-z0-9+/=]+)\s*$/i.exec(header)?.[1];
  if (encoded === undefined) return null;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  // RFC 6749 section 2.3.1: client credentials in Basic are form-urlencoded first.
  let id: string;
  let secret: string;
  try {
    id = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
    secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '));
  } catch {
    return null;
  }
  const presented = digest(secret);
  let match: ResourceServerConfig | null = null;
  for (const server of servers) {
    const same = timingSafeEqual(presented, digest(server.secret));
    if (same && server.id === id) match = server;
  }
  return match;
}
