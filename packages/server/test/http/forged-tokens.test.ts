// Forged, tampered and malformed Bearer tokens: every one is refused by GET /v1/me with the one
// RFC 6750 answer, whatever the cause, so the response tells an attacker nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  SignJWT,
  calculateJwkThumbprint,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  importJWK,
  type CryptoKey,
  type JWK,
  type JWTPayload,
  type JWTHeaderParameters,
} from 'jose';
import {
  getMe,
  json,
  passwordGrant,
  refresh,
  signUp,
  startTestServer,
  type TestServer,
} from '../support/harness.js';

const INVALID_TOKEN = 'Bearer error="invalid_token"';

const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

function segments(token: string): [string, string, string] {
  const parts = token.split('.');
  assert.equal(parts.length, 3);
  return parts as [string, string, string];
}

describe('forged and malformed access tokens', () => {
  let server: TestServer;
  let user: { id: string; email: string };
  let victim: { id: string; email: string };
  /** A genuine hybrid access token of `user`, and its refresh token. */
  let genuine: string;
  let refreshToken: string;
  let header: JWTHeaderParameters;
  let claims: JWTPayload;
  let serverJwk: JWK & { kid: string; x: string };
  /** The one body every refusal must have. */
  let refusal: string;

  before(async () => {
    server = await startTestServer();
    user = await signUp(server);
    victim = await signUp(server);
    const pair = await passwordGrant(server, user.email, 'app');
    genuine = pair.access_token;
    refreshToken = pair.refresh_token!;
    header = decodeProtectedHeader(genuine) as JWTHeaderParameters;
    claims = decodeJwt(genuine);
    const jwks = json(await server.app.inject({ method: 'GET', url: '/.well-known/jwks.json' }));
    serverJwk = (jwks['keys'] as (JWK & { kid: string; x: string })[])[0]!;
    const reference = await getMe(server, 'not.a.token');
    assert.equal(reference.statusCode, 401);
    refusal = reference.body;
    assert.deepEqual(json(reference), {
      type: 'urn:latchkey:problem:unauthenticated',
      title: 'Authentication required',
      status: 401,
      code: 'unauthenticated',
    });
  });
  after(() => server.close());

  async function assertRefused(token: string, label: string): Promise<void> {
    const response = await getMe(server, token);
    assert.equal(response.statusCode, 401, `${label}: ${response.body}`);
    assert.equal(response.headers['www-authenticate'], INVALID_TOKEN, label);
    assert.match(String(response.headers['content-type']), /^application\/problem\+json/, label);
    assert.equal(response.body, refusal, label);
  }

  /** Signs with the server's own current key: only the claim or header checks can refuse it. */
  function signWithServerKey(payload: JWTPayload, protectedHeader: JWTHeaderParameters) {
    const signing = server.services.keys.signingKey();
    return new SignJWT(payload).setProtectedHeader(protectedHeader).sign(signing.key);
  }

  it('accepts the genuine token and a re-signed copy (the forgeries below are controlled)', async () => {
    assert.equal((await getMe(server, genuine)).statusCode, 200);
    // A token built by this file's own helper with every claim right is accepted, so each
    // refusal below is caused by the one thing that case changes.
    const resigned = await signWithServerKey(
      { ...claims, jti: 'control-jti' },
      { alg: header.alg, kid: header.kid!, typ: 'at+jwt' },
    );
    const response = await getMe(server, resigned);
    assert.equal(response.statusCode, 200, response.body);
    assert.equal((json(response)['user'] as { id: string }).id, user.id);
  });

  it('refuses alg "none" in every casing', async () => {
    const [, , signature] = segments(genuine);
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      for (const forgedHeader of [
        { alg, typ: 'at+jwt' },
        { alg, typ: 'at+jwt', kid: header.kid },
        { alg },
      ]) {
        for (const payload of [claims, { ...claims, sub: victim.id, roles: ['admin'] }]) {
          const unsigned = `${encode(forgedHeader)}.${encode(payload)}`;
          await assertRefused(`${unsigned}.`, `${alg}, empty signature`);
          await assertRefused(`${unsigned}.${signature}`, `${alg}, original signature`);
          await assertRefused(`${unsigned}.AAAA`, `${alg}, junk signature`);
        }
      }
    }
  });

  it("refuses HS256 signed with the server's public key", async () => {
    const publicKey = await importJWK(serverJwk, 'EdDSA');
    const spki = await exportSPKI(publicKey as CryptoKey);
    const secrets: [string, Uint8Array][] = [
      ['raw x bytes', new Uint8Array(Buffer.from(serverJwk.x, 'base64url'))],
      ['x as text', new TextEncoder().encode(serverJwk.x)],
      ['SPKI PEM', new TextEncoder().encode(spki)],
      ['SPKI DER', new Uint8Array(Buffer.from(spki.replace(/-----[^-]+-----|\s/g, ''), 'base64'))],
      ['JWK JSON', new TextEncoder().encode(JSON.stringify(serverJwk))],
    ];
    for (const [label, secret] of secrets) {
      for (const kid of [header.kid, undefined]) {
        const token = await new SignJWT({ ...claims, roles: ['admin'] })
          .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', ...(kid ? { kid } : {}) })
          .sign(secret);
        await assertRefused(token, `HS256 with ${label}, kid ${String(kid)}`);
      }
    }
  });

  it('refuses a modified payload under the original signature', async () => {
    const [encodedHeader, , signature] = segments(genuine);
    const changes: [string, JWTPayload][] = [
      ['sub changed', { ...claims, sub: victim.id }],
      ['roles admin', { ...claims, roles: ['admin'] }],
      ['exp extended', { ...claims, exp: claims.exp! + 86_400 }],
      ['client_id changed', { ...claims, client_id: 'api' }],
      ['sid removed', { ...claims, sid: undefined }],
      ['same claims, other key order', Object.fromEntries(Object.entries(claims).reverse())],
    ];
    for (const [label, payload] of changes) {
      await assertRefused(`${encodedHeader}.${encode(payload)}.${signature}`, label);
    }
  });

  it('refuses a modified header under the original signature', async () => {
    const [, encodedPayload, signature] = segments(genuine);
    const changes: [string, Record<string, unknown>][] = [
      ['same header, other key order', { typ: header.typ, kid: header.kid, alg: header.alg }],
      ['extra member', { ...header, cty: 'JWT' }],
      ['typ JWT', { ...header, typ: 'JWT' }],
      ['kid removed', { alg: header.alg, typ: header.typ }],
      ['alg ES256', { ...header, alg: 'ES256' }],
    ];
    for (const [label, changed] of changes) {
      await assertRefused(`${encode(changed)}.${encodedPayload}.${signature}`, label);
    }
  });

  it('refuses an attacker key embedded as jwk, fetched by jku, or named by the server kid', async () => {
    const attacker = await generateKeyPair('EdDSA', { extractable: true });
    const attackerJwk = await exportJWK(attacker.publicKey);
    const attackerKid = await calculateJwkThumbprint(attackerJwk);
    const payload = { ...claims, sub: victim.id, roles: ['admin'] };
    const headers: [string, JWTHeaderParameters][] = [
      ['embedded jwk', { alg: 'EdDSA', typ: 'at+jwt', jwk: attackerJwk }],
      [
        'embedded jwk + own kid',
        { alg: 'EdDSA', typ: 'at+jwt', kid: attackerKid, jwk: attackerJwk },
      ],
      [
        'embedded jwk + server kid',
        { alg: 'EdDSA', typ: 'at+jwt', kid: header.kid!, jwk: attackerJwk },
      ],
      [
        'jku',
        { alg: 'EdDSA', typ: 'at+jwt', kid: attackerKid, jku: 'https://attacker.example/jwks' },
      ],
      [
        'jku + server kid',
        { alg: 'EdDSA', typ: 'at+jwt', kid: header.kid!, jku: 'https://attacker.example/jwks' },
      ],
      ['server kid', { alg: 'EdDSA', typ: 'at+jwt', kid: header.kid! }],
      ['own kid', { alg: 'EdDSA', typ: 'at+jwt', kid: attackerKid }],
    ];
    for (const [label, forgedHeader] of headers) {
      const token = await new SignJWT(payload)
        .setProtectedHeader(forgedHeader)
        .sign(attacker.privateKey);
      await assertRefused(token, label);
    }
  });

  it('refuses a wrong or missing typ', async () => {
    for (const typ of ['JWT', 'jwt', 'JOSE', 'rt+jwt', undefined]) {
      const token = await signWithServerKey(
        { ...claims, jti: `typ-${String(typ)}` },
        { alg: header.alg, kid: header.kid!, ...(typ !== undefined ? { typ } : {}) },
      );
      await assertRefused(token, `typ ${String(typ)}`);
    }
  });

  it('refuses a wrong or missing iss, aud or exp, and an expired token', async () => {
    const nowSeconds = Math.floor(server.clock.now() / 1000);
    const without = (name: string): JWTPayload =>
      Object.fromEntries(Object.entries(claims).filter(([key]) => key !== name));
    const cases: [string, JWTPayload][] = [
      ['iss missing', without('iss')],
      ['iss wrong', { ...claims, iss: 'https://evil.example' }],
      ['iss with a trailing slash', { ...claims, iss: `${server.config.issuer}/` }],
      ['aud missing', without('aud')],
      ['aud wrong', { ...claims, aud: 'https://other.example' }],
      ['exp missing', without('exp')],
      ['expired', { ...claims, iat: nowSeconds - 3600, exp: nowSeconds - 10 }],
      ['jti missing', without('jti')],
      ['client_id missing', without('client_id')],
      ['client_id unknown', { ...claims, client_id: 'nope' }],
      ['client_id of the session client', { ...claims, client_id: 'web' }],
      ['sub of no user', { ...claims, sub: 'usr_does_not_exist' }],
    ];
    for (const [label, payload] of cases) {
      // A fresh jti each, so no case is answered from a revocation or cache entry of another.
      const token = await signWithServerKey(
        payload.jti === undefined ? payload : { ...payload, jti: `claims-${label}` },
        { alg: header.alg, kid: header.kid!, typ: 'at+jwt' },
      );
      await assertRefused(token, label);
    }
  });

  it('refuses anything but strict compact JWS before decoding', async () => {
    const [h, p, s] = segments(genuine);
    const standardSignature = Buffer.from(s, 'base64url').toString('base64');
    const variants: [string, string][] = [
      ['standard base64 signature with padding', `${h}.${p}.${standardSignature}`],
      ['padding on the header', `${h}=.${p}.${s}`],
      ['padding on the payload', `${h}.${p}=.${s}`],
      ['padding on the signature', `${h}.${p}.${s}=`],
      ['double padding on the signature', `${h}.${p}.${s}==`],
      ['"+" in the signature', `${h}.${p}.+${s.slice(1)}`],
      ['"/" in the payload', `${h}.${p.slice(0, -1)}/.${s}`],
      ['"*" in the header', `*${h}.${p}.${s}`],
      ['space inside the payload', `${h}.${p.slice(0, 10)} ${p.slice(10)}.${s}`],
      ['tab inside the signature', `${h}.${p}.${s.slice(0, 10)}\t${s.slice(10)}`],
      ['four segments', `${h}.${p}.${s}.${s}`],
      ['trailing dot', `${h}.${p}.${s}.`],
      ['leading dot', `.${h}.${p}.${s}`],
      ['two segments', `${h}.${p}`],
      ['five segments (JWE shape)', `${h}.${p}.${s}.${s}.${s}`],
      ['empty payload', `${h}..${s}`],
      ['percent-encoded', `${h}.${p}.${s.slice(0, -1)}%3D`],
      ['non-ASCII', `${h}.${p}.${s}\u00e9`],
    ];
    for (const [label, token] of variants) await assertRefused(token, label);
  });

  it('refuses a refresh token presented as an access token', async () => {
    await assertRefused(refreshToken, 'refresh token as Bearer');
  });

  it('refuses an access token presented as a refresh token', async () => {
    const response = await refresh(server, genuine);
    assert.equal(response.statusCode, 400);
    assert.deepEqual(json(response), { error: 'invalid_grant' });
    // The genuine pair is untouched.
    assert.equal((await getMe(server, genuine)).statusCode, 200);
    assert.equal((await refresh(server, refreshToken)).statusCode, 200);
  });

  it('refuses a token signed by another Latchkey with its own key', async () => {
    const other = await startTestServer();
    try {
      const stranger = await signUp(other);
      const foreign = await passwordGrant(other, stranger.email, 'api');
      assert.equal((await getMe(other, foreign.access_token)).statusCode, 200);
      assert.notEqual(decodeProtectedHeader(foreign.access_token).kid, header.kid);
      await assertRefused(foreign.access_token, 'signed by another server');
      // Even naming a user this server knows.
      const forged = await new SignJWT({ ...decodeJwt(foreign.access_token), sub: user.id })
        .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: header.kid! })
        .sign(other.services.keys.signingKey().key);
      await assertRefused(forged, 'signed by another server, local kid and sub');
    } finally {
      await other.close();
    }
  });
});

describe('token spelling', () => {
  it('refuses a non-canonical base64url spelling of a valid signature', async () => {
    const { startTestServer, signUp, passwordGrant, getMe } = await import('../support/harness.js');
    const server = await startTestServer();
    try {
      const user = await signUp(server);
      const { access_token: token } = await passwordGrant(server, user.email, 'api');
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const last = token.at(-1)!;
      // Flipping the unused low bits of the last character keeps the decoded bytes the same.
      const respelled = [...alphabet].find(
        (c) =>
          c !== last &&
          Buffer.from(token.slice(token.lastIndexOf('.') + 1, -1) + c, 'base64url').equals(
            Buffer.from(token.slice(token.lastIndexOf('.') + 1), 'base64url'),
          ),
      );
      assert.ok(respelled, 'an EdDSA signature has unused bits in its last character');
      assert.equal((await getMe(server, token)).statusCode, 200);
      assert.equal((await getMe(server, token.slice(0, -1) + respelled)).statusCode, 401);
    } finally {
      await server.close();
    }
  });
});
