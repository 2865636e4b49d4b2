// The session strategy: login sets an HttpOnly cookie, all state stays on the server.
import { Type, type Static } from '@sinclair/typebox';
import type { LatchkeyServices } from '../../latchkey.js';
import { deriveCsrfToken } from '../../core/csrf-token.js';
import { ProblemError, rateLimited } from '../../core/errors.js';
import type { Session, User } from '../../core/model.js';
import { requirePrincipal, type RouteHandler } from '../route-types.js';
import { requestContext, serializeSession, serializeUser } from '../serialize.js';

const LoginBody = Type.Object(
  {
    email: Type.String({ minLength: 1, maxLength: 320 }),
    password: Type.String({ minLength: 1, maxLength: 4096 }),
    clientId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);

function sessionBody(
  user: User,
  session: Session,
  secret: string,
  passwordChangeRequired: boolean,
) {
  return {
    user: serializeUser(user),
    session: serializeSession(session, session.id),
    csrfToken: deriveCsrfToken(secret),
    // Only when true: this session may do nothing but change the password (API.md report).
    ...(passwordChangeRequired ? { passwordChangeRequired: true } : {}),
  };
}

export function login(
  services: Pick<LatchkeyServices, 'accounts' | 'sessions' | 'audit' | 'clients' | 'risk'>,
): RouteHandler {
  return {
    schema: { body: LoginBody },
    async handle({ request, reply, cookie }) {
      const body = request.body as Static<typeof LoginBody>;
      const client = services.clients.get(body.clientId ?? 'web');
      if (!client || client.strategy !== 'session') {
        throw new ProblemError('validation_failed', 'clientId must name a session client');
      }
      const context = requestContext(request);
      // Whatever cookie came with this request is ignored: a login never adopts a session ID
      // the browser already had (no fixation).
      const outcome = await services.accounts.authenticate(body.email, body.password, context);
      if (!outcome.ok && outcome.retryAfterMs !== undefined)
        throw rateLimited(outcome.retryAfterMs);
      if (!outcome.ok) {
        await services.audit.record('login_failed', {
          userId: outcome.userId,
          clientId: client.id,
          context,
          detail: { reason: 'invalid_credentials' },
        });
        throw new ProblemError('invalid_credentials');
      }
      if ((await services.risk.assessLogin(outcome.user, client.id, context)) === 'refuse') {
        await services.audit.record('login_failed', {
          userId: outcome.user.id,
          clientId: client.id,
          context,
          detail: { reason: 'suspicious_activity' },
        });
        throw new ProblemError('forbidden', 'login refused: suspicious activity');
      }
      const started = await services.sessions.start(outcome.user, client, context);
      if ('refused' in started) {
        throw new ProblemError('forbidden', 'the account has reached its session limit');
      }
      await services.audit.record('login_succeeded', {
        userId: outcome.user.id,
        sessionId: started.session.id,
        clientId: client.id,
        context,
      });
      cookie.set(reply, started.secret, started.session.expiresAt);
      return sessionBody(
        outcome.user,
        started.session,
        started.secret,
        outcome.user.passwordChangeRequired,
      );
    },
  };
}

/** Requires a cookie principal: the Bearer path has no session cookie to describe. */
function cookieSessionOf(ctx: Parameters<RouteHandler['handle']>[0]) {
  const principal = requirePrincipal(ctx);
  if (!principal.cookieSession) {
    throw new ProblemError('unauthenticated', 'this endpoint is for cookie sessions');
  }
  return { principal, ...principal.cookieSession };
}

export function current(services: Pick<LatchkeyServices, 'sessions'>): RouteHandler {
  return {
    async handle(ctx) {
      const { principal, session, secret } = cookieSessionOf(ctx);
      // A cached session lacks the device details the response shows: read the stored record.
      const stored = session.ip === null ? await services.sessions.find(session.id) : null;
      return sessionBody(
        principal.user,
        stored ? { ...session, ip: stored.ip, userAgent: stored.userAgent } : session,
        secret,
        principal.passwordChangeRequired,
      );
    },
  };
}

export function logout(services: Pick<LatchkeyServices, 'revoker'>): RouteHandler {
  return {
    async handle(ctx) {
      const { principal, session } = cookieSessionOf(ctx);
      await services.revoker.revokeSessions([session.id], 'logout', {
        userId: principal.user.id,
        context: requestContext(ctx.request),
      });
      ctx.cookie.clear(ctx.reply);
      return ctx.reply.code(204).send();
    },
  };
}
