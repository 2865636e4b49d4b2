// Type-level tests of the public surface: this file fails to compile when a public type changes
// shape. Each `@ts-expect-error` must stay an error; each `expectType` must stay exact. Nothing
// here needs to run; the single runtime test only records that it compiled.
/* eslint-disable @typescript-eslint/no-unused-vars, @typescript-eslint/no-unsafe-call --
   values here exist for their types, and the calls under @ts-expect-error are meant not to resolve */
import { it } from 'node:test';
import type { Hono } from 'hono';
import type { Request as ExpressRequest, RequestHandler } from 'express';
import type { FastifyInstance } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  authenticateRequest,
  createVerifier,
  type VerifierError,
  type VerifierConfigError,
  type AccessTokenClaims,
  type AuthenticationResult,
  type Verifier,
  type VerifierErrorCode,
  type VerifierOptions,
  type VerifyResult,
} from '../src/index.js';
import { createExpressMiddleware } from '../src/adapters/express.js';
import { createFastifyHook } from '../src/adapters/fastify.js';
import { createHonoMiddleware, type LatchkeyEnv } from '../src/adapters/hono.js';
import { createNodeAuthenticator } from '../src/adapters/node.js';

type Equal<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(): void {}

// The error codes are a closed union: adding, renaming or removing one is a visible change.
expectType<
  Equal<
    VerifierErrorCode,
    | 'token_invalid'
    | 'token_expired'
    | 'token_revoked'
    | 'keys_unavailable'
    | 'revocations_unavailable'
  >
>();
expectType<Equal<VerifierError['code'], VerifierErrorCode>>();
expectType<Equal<VerifierConfigError['option'], string>>();

// The claims.
expectType<Equal<AccessTokenClaims['sub'], string>>();
expectType<Equal<AccessTokenClaims['aud'], string>>();
expectType<Equal<AccessTokenClaims['exp'], number>>();
expectType<Equal<AccessTokenClaims['sid'], string | undefined>>();
expectType<Equal<AccessTokenClaims['roles'], readonly string[]>>();

// verify: a result, never claims without checking `ok`.
expectType<Equal<ReturnType<Verifier['verify']>, Promise<VerifyResult>>>();

async function verifyUsage(verifier: Verifier): Promise<void> {
  const result = await verifier.verify('token');
  // @ts-expect-error claims exist only once ok is checked
  void result.claims;
  if (result.ok) {
    expectType<Equal<typeof result.claims, AccessTokenClaims>>();
    // @ts-expect-error claims are read-only
    result.claims.sub = 'someone else';
    // @ts-expect-error roles are read-only
    result.claims.roles.push('admin');
  } else {
    expectType<Equal<typeof result.error, VerifierError>>();
    // @ts-expect-error no code outside the registry
    if (result.error.code === 'token_forged') return;
  }
  const auth: AuthenticationResult = await authenticateRequest(verifier, 'Bearer x');
  if (!auth.ok) expectType<Equal<typeof auth.status, 401 | 503>>();
}

function optionUsage(): void {
  // @ts-expect-error the issuer is required
  const noIssuer: VerifierOptions = { audience: 'a' };
  // @ts-expect-error the audience is required
  const noAudience: VerifierOptions = { issuer: 'https://i' };
  const feedWithoutCredential: VerifierOptions = {
    issuer: 'https://i',
    audience: 'a',
    // @ts-expect-error the feed needs a credential
    revocations: { url: 'https://i/v1/revocations' },
  };
  const stringDuration: VerifierOptions = {
    issuer: 'https://i',
    audience: 'a',
    // @ts-expect-error durations are numbers (ms), not strings
    maxStaleness: '30s',
  };
  const full: VerifierOptions = {
    issuer: 'https://i',
    audience: ['a', 'b'],
    jwksUrl: 'https://i/jwks',
    revocations: { credential: { id: 'rs', secret: 's' }, pollInterval: 1_000 },
    failOpen: false,
    maxStaleness: 30_000,
    clockSkew: 5_000,
    cacheSize: 100,
    now: () => 0,
    onWarning: (message: string) => void message,
  };
  void [noIssuer, noAudience, feedWithoutCredential, stringDuration, full, createVerifier];
}

// The adapters fit their frameworks' own types.
function adapterUsage(
  verifier: Verifier,
  fastify: FastifyInstance,
  hono: Hono<LatchkeyEnv>,
  request: IncomingMessage,
  response: ServerResponse,
): void {
  const middleware: RequestHandler = createExpressMiddleware(verifier);
  fastify.addHook('preHandler', createFastifyHook(verifier));
  fastify.get('/', (req, reply) => {
    expectType<Equal<typeof req.latchkey, AccessTokenClaims | undefined>>();
    return reply.send(null);
  });
  hono.use('*', createHonoMiddleware(verifier));
  hono.get('/', (c) => {
    const claims = c.get('latchkey');
    expectType<Equal<typeof claims, AccessTokenClaims>>();
    return c.text('');
  });
  const claims = createNodeAuthenticator(verifier)(request, response);
  expectType<Equal<typeof claims, Promise<AccessTokenClaims | null>>>();
  void middleware;
}

function expressRequestHasClaims(request: ExpressRequest): void {
  expectType<Equal<typeof request.latchkey, AccessTokenClaims | undefined>>();
}

void [verifyUsage, optionUsage, adapterUsage, expressRequestHasClaims];

it('the public types compile as specified', () => {});
