// Express (4 and 5): middleware that sets `req.latchkey` or answers the refusal.
import type { RequestHandler } from 'express';
import { authenticateRequest } from '../authenticate.js';
import type { AccessTokenClaims } from '../claims.js';
import type { Verifier } from '../verifier.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- how Express's Request is extended
  namespace Express {
    interface Request {
      /** The verified access token's claims, set by the Latchkey middleware. */
      latchkey?: AccessTokenClaims;
    }
  }
}

export function createExpressMiddleware(verifier: Verifier): RequestHandler {
  return (request, response, next) => {
    authenticateRequest(verifier, request.headers.authorization).then((result) => {
      if (result.ok) {
        request.latchkey = result.claims;
        next();
        return;
      }
      response.status(result.status).set(result.headers).send(JSON.stringify(result.body));
    }, next);
  };
}
