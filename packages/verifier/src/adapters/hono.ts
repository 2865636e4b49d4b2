// Hono: middleware that sets `c.var.latchkey` or answers the refusal. Like the core, it uses
// nothing Node-specific (only Node is tested).
import type { MiddlewareHandler } from 'hono';
import { authenticateRequest } from '../authenticate.js';
import type { AccessTokenClaims } from '../claims.js';
import type { Verifier } from '../verifier.js';

/** Declare it on your app (`new Hono<LatchkeyEnv>()`) to type `c.var.latchkey`. */
export interface LatchkeyEnv {
  Variables: { latchkey: AccessTokenClaims };
}

export function createHonoMiddleware(verifier: Verifier): MiddlewareHandler<LatchkeyEnv> {
  return async (c, next) => {
    const result = await authenticateRequest(verifier, c.req.header('authorization'));
    if (!result.ok) {
      return new Response(JSON.stringify(result.body), {
        status: result.status,
        headers: result.headers,
      });
    }
    c.set('latchkey', result.claims);
    await next();
    return undefined;
  };
}
