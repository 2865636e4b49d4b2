// RFC 6749 token endpoint, RFC 7009 revocation and RFC 7662 introspection.
import type { FastifyRequest } from 'fastify';
import type { LatchkeyServices } from '../../latchkey.js';
import { lastAcceptedMoment } from '../../core/access-tokens.js';
import type { ProblemError } from '../../core/errors.js';
import { OAuthError, rateLimited } from '../../core/errors.js';
import { REFRESH_TOKEN_PREFIX, hashSecret } from '../../core/random.js';
import { isSessionLive } from '../../core/sessions.js';
import type { GrantResult } from '../../core/token-grants.js';
import { authenticateResourceServer } from '../authenticate.js';
import type { Metrics } from '../metrics.js';
import type { RouteHandler } from '../route-types.js';
import { requestContext } from '../serialize.js';

/** OAuth parameters: JSON or form, every value a string; unknown ones are ignored (RFC 6749 3.2). */
function parameters(request: FastifyRequest): Record<string, unknown> {
  const body = request.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new OAuthError('invalid_request', 'the request body must be a JSON object or a form');
  }
  return body as Record<string, unknown>;
}

function required(params: Record<string, unknown>, name: string): string {
  const value = params[name];
  if (typeof value !== 'string' || value.length === 0) {
    throw new OAuthError('invalid_request', `${name} is required`);
  }
  if (value.length > 4096) throw new OAuthError('invalid_request', `${name} is too long`);
  return value;
}

function tokenResponse(result: Extract<GrantResult, { ok: true }>) {
  return {
    access_token: result.accessToken.token,
    token_type: 'Bearer',
    expires_in: result.accessToken.expiresIn,
    ...(result.refreshToken !== undefined ? { refresh_token: result.refreshToken } : {}),
    ...(result.session !== undefined ? { session_id: result.session.id } : {}),
    // Only when true: these tokens may do nothing but change the password (API.md report).
    ...(result.passwordChangeRequired ? { password_change_required: true } : {}),
  };
}

function grantError(result: Extract<GrantResult, { ok: false }>): OAuthError | ProblemError {
  switch (result.error) {
    case 'rate_limited':
      return rateLimited(result.retryAfterMs);
    case 'invalid_client':
      return new OAuthError('invalid_client', 'unknown client');
    case 'unauthorized_client':
      return new OAuthError('unauthorized_client', 'this client may not use this grant');
    case 'session_limit':
      return new OAuthError('invalid_grant', 'the account has reached its session limit');
    case 'invalid_grant':
    case 'refresh_token_reused':
      return new OAuthError('invalid_grant');
    case 'login_refused':
      return new OAuthError('invalid_grant', 'login refused: suspicious activity');
    // RFC 6749 has no code for this: `invalid_grant` makes any client log in again, and the
    // description carries Latchkey's code for clients that tell it apart.
    case 'reauthentication_required':
      return new OAuthError('invalid_grant', 'reauthentication_required');
  }
}

export function token(services: LatchkeyServices, metrics: Metrics): RouteHandler {
  return {
    async handle({ request }) {
      const params = parameters(request);
      const grantType = required(params, 'grant_type');
      const context = requestContext(request);
      let result: GrantResult;
      if (grantType === 'password') {
        const clientId = required(params, 'client_id');
        result = await services.grants.passwordGrant(
          required(params, 'username'),
          required(params, 'password'),
          clientId,
          context,
        );
        metrics.logins.inc({
          strategy: services.clients.get(clientId)?.strategy ?? 'unknown',
          result: result.ok ? 'succeeded' : 'failed',
        });
      } else if (grantType === 'refresh_token') {
        result = await services.grants.refreshGrant(
          required(params, 'refresh_token'),
          required(params, 'client_id'),
          context,
        );
        metrics.refreshes.inc({ result: result.ok ? 'rotated' : 'refused' });
        if (!result.ok && result.error === 'refresh_token_reused') metrics.refreshReuse.inc();
      } else {
        throw new OAuthError('unsupported_grant_type');
      }
      if (!result.ok) throw grantError(result);
      return tokenResponse(result);
    },
  };
}

export function revoke(services: LatchkeyServices): RouteHandler {
  return {
    async handle({ request }) {
      const presented = required(parameters(request), 'token');
      if (presented.startsWith(REFRESH_TOKEN_PREFIX)) {
        const record = await services.storage.findRefreshToken(hashSecret(presented));
        if (record) {
          const session = await services.storage.findSessionById(record.sessionId);
          await services.revoker.revokeSessions([record.sessionId], 'token_revoked', {
            userId: session?.userId ?? null,
            context: requestContext(request),
          });
        }
      } else {
        const claims = await services.accessTokens.verify(presented);
        if (claims)
          await services.revoker.revokeAccessToken(claims.jti, lastAcceptedMoment(claims));
      }
      // RFC 7009: the same answer whether or not the token was known.
      return {};
    },
  };
}

export function introspect(services: LatchkeyServices): RouteHandler {
  const inactive = { active: false };
  return {
    async handle({ request, reply }) {
      const server = authenticateResourceServer(
        request.headers.authorization,
        services.config.resourceServers,
      );
      if (!server) {
        throw new OAuthError('invalid_client', 'resource-server credentials required', {
          headers: { 'www-authenticate': 'Basic realm="latchkey"' },
        });
      }
      const presented = required(parameters(request), 'token');
      void reply.header('cache-control', 'no-store');
      const now = services.clock.now();

      if (presented.startsWith(REFRESH_TOKEN_PREFIX)) {
        const record = await services.storage.findRefreshToken(hashSecret(presented));
        if (!record || record.rotatedAt !== null) return inactive;
        const session = await services.storage.findSessionById(record.sessionId);
        if (!session || !isSessionLive(session, now)) return inactive;
        return {
          active: true,
          sub: session.userId,
          exp: Math.floor(Math.min(session.idleExpiresAt, session.expiresAt) / 1000),
          client_id: session.clientId,
          sid: session.id,
          token_type: 'refresh_token',
        };
      }
      const claims = await services.accessTokens.verify(presented);
      if (!claims) return inactive;
      const user = await services.accounts.findUser(claims.sub);
      if (!user || user.status !== 'active' || claims.iat < user.epoch) return inactive;
      return {
        active: true,
        sub: claims.sub,
        exp: claims.exp,
        client_id: claims.client_id,
        ...(claims.sid !== undefined ? { sid: claims.sid } : {}),
        token_type: 'access_token',
      };
    },
  };
}
