import { Type, type Static } from '@sinclair/typebox';
import type { LatchkeyServices } from '../../latchkey.js';
import { ProblemError, rateLimited } from '../../core/errors.js';
import { requirePrincipal, type RouteHandler } from '../route-types.js';
import { isoTime, requestContext, serializeUser } from '../serialize.js';

const SignUpBody = Type.Object(
  {
    email: Type.String({ minLength: 1, maxLength: 320 }),
    password: Type.String({ minLength: 1, maxLength: 4096 }),
  },
  { additionalProperties: false },
);

export function signUp(services: Pick<LatchkeyServices, 'accounts'>): RouteHandler {
  return {
    schema: { body: SignUpBody },
    async handle({ request, reply }) {
      const body = request.body as Static<typeof SignUpBody>;
      const result = await services.accounts.signUp(
        body.email,
        body.password,
        requestContext(request),
      );
      if (!result.ok) {
        switch (result.reason) {
          case 'invalid_email':
            throw new ProblemError('validation_failed', 'email is not a valid address');
          case 'email_taken':
            throw new ProblemError('email_taken');
          case 'weak_password':
            throw new ProblemError('validation_failed', result.detail);
          case 'rate_limited':
            throw rateLimited(result.retryAfterMs);
        }
      }
      return reply.code(201).send({ user: serializeUser(result.user) });
    },
  };
}

/**
 * The shape of GET /v1/me. Declared so Fastify serialises it with a compiled serializer rather than
 * JSON.stringify (it answers more often than anything else), and so that nothing outside these
 * fields can ever reach the response.
 */
const MeResponse = Type.Object({
  user: Type.Object({
    id: Type.String(),
    email: Type.String(),
    roles: Type.Array(Type.String()),
    status: Type.String(),
    createdAt: Type.String(),
  }),
  auth: Type.Object({
    strategy: Type.String(),
    clientId: Type.String(),
    sessionId: Type.Optional(Type.String()),
    expiresAt: Type.String(),
    passwordChangeRequired: Type.Optional(Type.Boolean()),
  }),
});

export function me(): RouteHandler {
  return {
    schema: { response: { 200: MeResponse } },
    handle(ctx) {
      const principal = requirePrincipal(ctx);
      return Promise.resolve({
        user: serializeUser(principal.user),
        auth: {
          strategy: principal.strategy,
          clientId: principal.clientId,
          ...(principal.sessionId !== null ? { sessionId: principal.sessionId } : {}),
          expiresAt: isoTime(principal.expiresAt),
          ...(principal.passwordChangeRequired ? { passwordChangeRequired: true } : {}),
        },
      });
    },
  };
}
