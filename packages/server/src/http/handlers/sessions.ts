// Session management for the caller's own sessions (API.md "Session management").
import { Type, type Static } from '@sinclair/typebox';
import type { LatchkeyServices } from '../../latchkey.js';
import { ProblemError } from '../../core/errors.js';
import { requirePrincipal, type RouteHandler } from '../route-types.js';
import { requestContext, serializeSession } from '../serialize.js';

const SessionParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
const RevokeAllQuery = Type.Object(
  { except: Type.Optional(Type.Literal('current')) },
  { additionalProperties: false },
);

export function listSessions(services: Pick<LatchkeyServices, 'sessions'>): RouteHandler {
  return {
    async handle(ctx) {
      const principal = requirePrincipal(ctx);
      const sessions = await services.sessions.list(principal.user.id);
      return { sessions: sessions.map((s) => serializeSession(s, principal.sessionId)) };
    },
  };
}

export function revokeSession(
  services: Pick<LatchkeyServices, 'sessions' | 'revoker'>,
): RouteHandler {
  return {
    schema: { params: SessionParams },
    async handle(ctx) {
      const principal = requirePrincipal(ctx);
      const { id } = ctx.request.params as Static<typeof SessionParams>;
      const live = await services.sessions.list(principal.user.id);
      // Someone else's session and an unknown one answer alike.
      if (!live.some((s) => s.id === id)) throw new ProblemError('not_found', 'no such session');
      await services.revoker.revokeSessions([id], 'user_revoked', {
        userId: principal.user.id,
        context: requestContext(ctx.request),
      });
      if (id === principal.cookieSession?.session.id) ctx.cookie.clear(ctx.reply);
      return ctx.reply.code(204).send();
    },
  };
}

export function revokeAllSessions(
  services: Pick<LatchkeyServices, 'sessions' | 'revoker'>,
): RouteHandler {
  return {
    schema: { querystring: RevokeAllQuery },
    async handle(ctx) {
      const principal = requirePrincipal(ctx);
      const { except } = ctx.request.query as Static<typeof RevokeAllQuery>;
      const live = await services.sessions.list(principal.user.id);
      const ids = live
        .map((s) => s.id)
        .filter((id) => except !== 'current' || id !== principal.sessionId);
      await services.revoker.revokeSessions(ids, 'user_revoked', {
        userId: principal.user.id,
        context: requestContext(ctx.request),
      });
      // Stateless `jwt` tokens carry no session: only the epoch ends them. The caller's own access
      // token goes too; with `except=current` its session survives and refreshes a new one.
      await services.revoker.moveUserEpoch(principal.user.id);
      // "Log out everywhere" without `except` includes this browser too.
      if (except !== 'current' && principal.cookieSession) ctx.cookie.clear(ctx.reply);
      return ctx.reply.code(204).send();
    },
  };
}

/**
 * "This wasn't me" (API.md): ends the reported session and every other one but the caller's, and
 * every stateless token (the epoch moves, as for "log out everywhere"); records the report; and
 * flags the account so the next login may do nothing but change the password.
 */
export function reportSession(
  services: Pick<LatchkeyServices, 'sessions' | 'revoker' | 'accounts' | 'audit'>,
): RouteHandler {
  return {
    schema: { params: SessionParams },
    async handle(ctx) {
      const principal = requirePrincipal(ctx);
      const { id } = ctx.request.params as Static<typeof SessionParams>;
      const reported = await services.sessions.find(id);
      // Someone else's session and an unknown one answer alike. An own session that has already
      // ended can still be reported: the report and the password change still matter.
      if (!reported || reported.userId !== principal.user.id) {
        throw new ProblemError('not_found', 'no such session');
      }
      if (id === principal.sessionId) {
        throw new ProblemError('validation_failed', 'the current session cannot be reported');
      }
      const context = requestContext(ctx.request);
      // The flag first: a login racing this report is already limited.
      await services.accounts.requirePasswordChange(principal.user.id);
      const others = (await services.sessions.list(principal.user.id))
        .map((s) => s.id)
        .filter((other) => other !== principal.sessionId && other !== id);
      const ended = await services.revoker.revokeSessions([id, ...others], 'reported', {
        userId: principal.user.id,
        context,
      });
      await services.revoker.moveUserEpoch(principal.user.id);
      await services.audit.record('suspicious_activity', {
        userId: principal.user.id,
        sessionId: id,
        clientId: reported.clientId,
        context,
        detail: {
          signal: 'user_report',
          action: 'revoke',
          reportedBy: principal.sessionId,
          sessionsEnded: ended.length,
          passwordChangeRequired: true,
        },
      });
      return ctx.reply.code(204).send();
    },
  };
}
