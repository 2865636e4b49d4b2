// @latchkey/verifier: verify Latchkey access tokens in resource servers. Framework adapters live
// in the subpaths ./node, ./express, ./fastify and ./hono.
export { createVerifier } from './verifier.js';
export type { Verifier, VerifyResult, VerifierStatus } from './verifier.js';
export type { VerifierOptions, RevocationOptions } from './options.js';
export type { AccessTokenClaims } from './claims.js';
export { VerifierError, VerifierConfigError } from './errors.js';
export type { VerifierErrorCode } from './errors.js';
export { authenticateRequest } from './authenticate.js';
export type { AuthenticationResult, Problem } from './authenticate.js';
export type { FeedMode } from './revocation-feed.js';
