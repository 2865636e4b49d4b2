// Fastify: a preHandler hook that sets `request.latchkey` or answers the refusal. Add it where it
// should apply: `app.addHook('preHandler', hook)` for a whole (encapsulated) scope, or a route's
// `preHandler` option.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { authenticateRequest } from '../authenticate.js';
import type { AccessTokenClaims } from '../claims.js';
import type { Verifier } from '../verifier.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified access token's claims, set by the Latchkey preHandler hook. */
    latchkey?: AccessTokenClaims;
  }
}

export type FastifyHook = (
  request: FastifyRequest,
  reply: FastifyReply,
) => Promise<FastifyReply | undefined>;

export function createFastifyHook(verifier: Verifier): FastifyHook {
  return async (request, reply) => {
    const result = await authenticateRequest(verifier, request.headers.authorization);
    if (result.ok) {
      request.latchkey = result.claims;
      return undefined;
    }
    // Serialised here, so a route's response schema or serializer never reshapes the problem.
    return reply.code(result.status).headers(result.headers).send(JSON.stringify(result.body));
  };
}
