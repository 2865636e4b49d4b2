// Password change: re-authenticate, then end everything else the old password opened.
import { Type, type Static } from '@sinclair/typebox';
import type { LatchkeyServices } from '../../latchkey.js';
import { ProblemError, rateLimited } from '../../core/errors.js';
import { requirePrincipal, type RouteHandler } from '../route-types.js';
import { requestContext } from '../serialize.js';

const ChangePasswordBody = Type.Object(
  {
    currentPassword: Type.String({ minLength: 1, maxLength: 4096 }),
    newPassword: Type.String({ minLength: 1, maxLength: 4096 }),
  },
  { additionalProperties: false },
);

export function changePassword(
  services: Pick<LatchkeyServices, 'accounts' | 'sessions' | 'revoker' | 'audit'>,
): RouteHandler {
  return {
    schema: { body: ChangePasswordBody },
    async handle(ctx) {
      const principal = requirePrincipal(ctx);
      const body = ctx.request.body as Static<typeof ChangePasswordBody>;
      const context = requestContext(ctx.request);
      const result = await services.accounts.preparePasswordChange(
        principal.user,
        body.currentPassword,
        body.newPassword,
        context,
      );
      if (!result.ok) {
        switch (result.reason) {
          case 'wrong_password':
            throw new ProblemError('invalid_credentials');
          case 'rate_limited':
            throw rateLimited(result.retryAfterMs);
          case 'weak_password':
            throw new ProblemError('validation_failed', result.detail);
        }
      }
      // Every access token issued before now dies with the epoch; every other session ends.
      const epoch = await services.revoker.moveUserEpoch(principal.user.id);
      await services.accounts.storePasswordHash(principal.user.id, result.passwordHash, epoch);
      const others = (await services.sessions.list(principal.user.id))
        .map((s) => s.id)
        .filter((id) => id !== principal.sessionId);
      await services.revoker.revokeSessions(others, 'password_changed', {
        userId: principal.user.id,
        context,
      });
      // The current cookie session continues under a new secret (a privilege change).
      if (principal.cookieSession) {
        const secret = await services.sessions.renewSecret(
          principal.cookieSession.session,
          principal.cookieSession.secret,
        );
        ctx.cookie.set(ctx.reply, secret, principal.cookieSession.session.expiresAt);
      }
      await services.audit.record('password_changed', {
        userId: principal.user.id,
        sessionId: principal.sessionId,
        clientId: principal.clientId,
        context,
      });
      return ctx.reply.code(204).send();
    },
  };
}
