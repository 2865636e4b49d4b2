import type { FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import type { ErrorShape } from './errors.js';
import type { Principal } from './authenticate.js';
import type { SessionCookie } from './session-cookie.js';

/**
 * Who may call a route: anyone, a logged-in user (cookie or Bearer), an admin, or a resource
 * server with its configured credential.
 */
export type AuthRequirement = 'public' | 'user' | 'admin' | 'resource_server';

/**
 * Cross-site protection: `login` refuses a foreign Origin or `Sec-Fetch-Site: cross-site`;
 * `cookie` additionally requires the session's CSRF token when the cookie authenticated the call;
 * `none` for safe methods and machine-to-machine endpoints.
 */
export type CsrfRule = 'none' | 'login' | 'cookie';

/**
 * The per-address flood limit of a route (see rate-limit.ts): `refresh` for the token endpoint,
 * `default` for the rest. `login` and `signup` routes also pass through the shared-store
 * throttles in the core (failed logins, sign-ups per address, password changes).
 */
export type RateLimitRule = 'none' | 'login' | 'signup' | 'refresh' | 'default';

export interface RouteContext {
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
  /** Set for every route whose requirement is `user` or `admin`. */
  readonly principal: Principal | null;
  readonly cookie: SessionCookie;
}

export interface RouteHandler {
  readonly schema?: FastifySchema;
  handle(ctx: RouteContext): Promise<unknown>;
}

export interface RouteSpec {
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly url: string;
  readonly auth: AuthRequirement;
  readonly csrf: CsrfRule;
  readonly rateLimit: RateLimitRule;
  readonly errors: ErrorShape;
  /** Responses carry credentials: `Cache-Control: no-store`. */
  readonly credentials: boolean;
  readonly handler: RouteHandler;
}

/** Principal of a route whose requirement guarantees one. */
export function requirePrincipal(ctx: RouteContext): Principal {
  if (!ctx.principal) throw new Error('route declared without authentication');
  return ctx.principal;
}
