// node:http: call it first in a request handler; it answers the refusal itself.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { authenticateRequest } from '../authenticate.js';
import type { AccessTokenClaims } from '../claims.js';
import type { Verifier } from '../verifier.js';

export type NodeAuthenticator = (
  request: IncomingMessage,
  response: ServerResponse,
) => Promise<AccessTokenClaims | null>;

/**
 * Returns `authenticate(req, res)`: the claims, or `null` after it has answered 401 (or 503) on
 * `res`; the handler then just returns.
 */
export function createNodeAuthenticator(verifier: Verifier): NodeAuthenticator {
  return async (request, response) => {
    const result = await authenticateRequest(verifier, request.headers.authorization);
    if (result.ok) return result.claims;
    response.writeHead(result.status, result.headers).end(JSON.stringify(result.body));
    return null;
  };
}
