// Latchkey's whole HTTP surface in one table: every route with who may call it, its cross-site
// rule, its abuse limit, its error shape and whether its responses carry credentials.
import { ProblemError } from '../core/errors.js';
import type { LatchkeyServices } from '../latchkey.js';
import * as accounts from './handlers/accounts.js';
import * as activity from './handlers/activity.js';
import * as admin from './handlers/admin.js';
import * as cookieSession from './handlers/cookie-session.js';
import * as password from './handlers/password.js';
import * as feed from './handlers/revocation-feed.js';
import * as discovery from './handlers/discovery.js';
import * as oauth from './handlers/oauth.js';
import * as sessions from './handlers/sessions.js';
import type { Metrics } from './metrics.js';
import type { RouteSpec } from './route-types.js';

export function routeTable(
  services: LatchkeyServices,
  metrics: Metrics,
  streaming: { streams: feed.OpenStreams; heartbeatMs: number },
): RouteSpec[] {
  const problem = 'problem' as const;
  const oauthShape = 'oauth' as const;
  // prettier-ignore
  const table: RouteSpec[] = [
    // method    url                                       auth               csrf      rate limit  errors      credentials
    { method: 'POST',   url: '/v1/accounts',                   auth: 'public',          csrf: 'login',  rateLimit: 'signup',  errors: problem,    credentials: false, handler: accounts.signUp(services) },
    { method: 'GET',    url: '/v1/me',                         auth: 'user',            csrf: 'none',   rateLimit: 'default', errors: problem,    credentials: false, handler: accounts.me() },
    { method: 'POST',   url: '/v1/me/password',                auth: 'user',            csrf: 'cookie', rateLimit: 'login',   errors: problem,    credentials: true,  handler: password.changePassword(services) },

    { method: 'POST',   url: '/v1/session',                    auth: 'public',          csrf: 'login',  rateLimit: 'login',   errors: problem,    credentials: true,  handler: cookieSession.login(services) },
    { method: 'GET',    url: '/v1/session',                    auth: 'user',            csrf: 'none',   rateLimit: 'default', errors: problem,    credentials: true,  handler: cookieSession.current(services) },
    { method: 'DELETE', url: '/v1/session',                    auth: 'user',            csrf: 'cookie', rateLimit: 'default', errors: problem,    credentials: true,  handler: cookieSession.logout(services) },

    { method: 'POST',   url: '/v1/token',                      auth: 'public',          csrf: 'none',   rateLimit: 'refresh',  errors: oauthShape, credentials: true,  handler: oauth.token(services, metrics) },
    { method: 'POST',   url: '/v1/token/revoke',               auth: 'public',          csrf: 'none',   rateLimit: 'default', errors: oauthShape, credentials: false, handler: oauth.revoke(services) },
    { method: 'POST',   url: '/v1/token/introspect',           auth: 'resource_server', csrf: 'none',   rateLimit: 'default', errors: oauthShape, credentials: true,  handler: oauth.introspect(services) },

    { method: 'GET',    url: '/v1/me/activity',                auth: 'user',            csrf: 'none',   rateLimit: 'default', errors: problem,    credentials: false, handler: activity.myActivity(services) },
    { method: 'GET',    url: '/v1/sessions',                   auth: 'user',            csrf: 'none',   rateLimit: 'default', errors: problem,    credentials: false, handler: sessions.listSessions(services) },
    { method: 'DELETE', url: '/v1/sessions/:id',               auth: 'user',            csrf: 'cookie', rateLimit: 'default', errors: problem,    credentials: false, handler: sessions.revokeSession(services) },
    { method: 'DELETE', url: '/v1/sessions',                   auth: 'user',            csrf: 'cookie', rateLimit: 'default', errors: problem,    credentials: false, handler: sessions.revokeAllSessions(services) },
    { method: 'POST',   url: '/v1/me/sessions/:id/report',     auth: 'user',            csrf: 'cookie', rateLimit: 'default', errors: problem,    credentials: false, handler: sessions.reportSession(services) },

    { method: 'GET',    url: '/v1/admin/users',                auth: 'admin',           csrf: 'none',   rateLimit: 'default', errors: problem,    credentials: false, handler: admin.listUsers(services) },
    { method: 'GET',    url: '/v1/admin/users/:id/sessions',   auth: 'admin',           csrf: 'none',   rateLimit: 'default', errors: problem,    credentials: false, handler: admin.listUserSessions(services) },
    { method: 'POST',   url: '/v1/admin/users/:id/ban',        auth: 'admin',           csrf: 'cookie', rateLimit: 'default', errors: problem,    credentials: false, handler: admin.banUser(services) },
    { method: 'POST',   url: '/v1/admin/users/:id/unban',      auth: 'admin',           csrf: 'cookie', rateLimit: 'default', errors: problem,    credentials: false, handler: admin.unbanUser(services) },
    { method: 'DELETE', url: '/v1/admin/sessions/:id',         auth: 'admin',           csrf: 'cookie', rateLimit: 'default', errors: problem,    credentials: false, handler: admin.revokeAnySession(services) },
    { method: 'GET',    url: '/v1/admin/audit',                auth: 'admin',           csrf: 'none',   rateLimit: 'default', errors: problem,    credentials: false, handler: admin.listAudit(services) },

    { method: 'GET',    url: '/v1/revocations',                auth: 'resource_server', csrf: 'none',   rateLimit: 'default', errors: problem,    credentials: false, handler: feed.listRevocations(services) },
    { method: 'GET',    url: '/v1/revocations/stream',         auth: 'resource_server', csrf: 'none',   rateLimit: 'default', errors: problem,    credentials: false, handler: feed.streamRevocations(services, streaming.streams, streaming) },

    { method: 'GET',    url: '/.well-known/jwks.json',         auth: 'public',          csrf: 'none',   rateLimit: 'none',    errors: problem,    credentials: false, handler: discovery.jwks(services) },
    { method: 'GET',    url: '/.well-known/oauth-authorization-server', auth: 'public', csrf: 'none',   rateLimit: 'none',    errors: problem,    credentials: false, handler: discovery.authorizationServerMetadata(services) },
    { method: 'GET',    url: '/healthz',                       auth: 'public',          csrf: 'none',   rateLimit: 'none',    errors: problem,    credentials: false, handler: discovery.healthz() },
    { method: 'GET',    url: '/readyz',                        auth: 'public',          csrf: 'none',   rateLimit: 'none',    errors: problem,    credentials: false, handler: discovery.readyz(services) },
    { method: 'GET',    url: '/metrics',                       auth: 'public',          csrf: 'none',   rateLimit: 'none',    errors: problem,    credentials: false, handler: discovery.metricsEndpoint(metrics) },
  ];
  return table.map(limitWhilePasswordChangeRequired);
}

/**
 * What a login made while a password change is pending ("this wasn't me") may call: see who it
 * is, change the password, log out. Every other route that needs a user answers 403.
 */
export const OPEN_WHILE_PASSWORD_CHANGE_REQUIRED: ReadonlySet<string> = new Set([
  'GET /v1/me',
  'GET /v1/session',
  'POST /v1/me/password',
  'DELETE /v1/session',
]);

function limitWhilePasswordChangeRequired(spec: RouteSpec): RouteSpec {
  if (spec.auth !== 'user' && spec.auth !== 'admin') return spec;
  if (OPEN_WHILE_PASSWORD_CHANGE_REQUIRED.has(`${spec.method} ${spec.url}`)) return spec;
  const { handler } = spec;
  return {
    ...spec,
    handler: {
      ...(handler.schema ? { schema: handler.schema } : {}),
      async handle(ctx) {
        if (ctx.principal?.passwordChangeRequired) {
          throw new ProblemError('forbidden', 'password change required');
        }
        return handler.handle(ctx);
      },
    },
  };
}
