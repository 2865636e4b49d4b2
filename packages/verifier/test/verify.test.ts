// Verification of access tokens: the claims a valid one yields, and every forged or malformed
// variant refused (RFC 8725): alg none, HS256 keyed with the public key, modified payload or
// header, attacker-supplied jwk/jku/kid, wrong typ, missing or wrong iss/aud/exp, and strings that
// are not strict compact JWS.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { SignJWT, base64url, calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import { createVerifier, VerifierConfigError } from '../src/index.js';
import { AUDIENCE, FakeIssuer } from './support/fake-issuer.js';
import { outcome, startFixture, type Fixture } from './support/setup.js';

const encodeJson = (value: unknown) => base64url.encode(JSON.stringify(value));

function segments(token: string): [string, string, string] {
  const [header, payload, signature] = token.split('.');
  return [header!, payload!, signature!];
}

describe('verify: valid tokens', () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture({ feed: false, verifier: { cacheSize: 0 } });
  });
  after(() => f.close());

  it('yields the typed claims of a valid token', async () => {
    const token = await f.issuer.sign(f.clock.ms, { sub: 'user-42', roles: ['admin', 'member'] });
    const result = await f.verifier.verify(token);
    assert.ok(result.ok);
    assert.equal(result.claims.sub, 'user-42');
    assert.equal(result.claims.iss, f.issuer.url);
    assert.equal(result.claims.aud, AUDIENCE);
    assert.equal(result.claims.client_id, 'app');
    assert.equal(result.claims.sid, 'session-1');
    assert.deepEqual(result.claims.roles, ['admin', 'member']);
    assert.ok(Object.isFrozen(result.claims));
  });

  it('drops claims it does not know and omits sid when the token has none', async () => {
    const token = await f.issuer.sign(f.clock.ms, { sid: undefined, email: 'x@example.test' });
    const result = await f.verifier.verify(token);
    assert.ok(result.ok);
    assert.ok(!('sid' in result.claims));
    assert.ok(!('email' in result.claims));
  });

  it('accepts the application/at+jwt spelling of the type (RFC 7515 4.1.9)', async () => {
    const token = await f.issuer.sign(f.clock.ms, {}, { header: { typ: 'application/at+jwt' } });
    assert.equal(await outcome(f.verifier, token), 'ok');
  });

  it('accepts ES256 and RS256 keys, each pinned to its own algorithm', async () => {
    for (const alg of ['ES256', 'RS256'] as const) {
      const key = await f.issuer.addKey(alg);
      f.clock.advance(31_000); // past the unknown-kid cooldown
      const token = await f.issuer.sign(f.clock.ms, {}, { key });
      assert.equal(await outcome(f.verifier, token), 'ok', alg);
    }
  });

  it('makes no network call for a token signed by a known key', async () => {
    const tokens = await Promise.all(
      Array.from({ length: 20 }, () => f.issuer.sign(f.clock.ms, {}, { key: f.issuer.keys[0]! })),
    );
    await f.verifier.verify(tokens[0]!);
    const before = f.issuer.jwksRequests;
    for (const token of tokens) assert.equal(await outcome(f.verifier, token), 'ok');
    assert.equal(f.issuer.jwksRequests, before);
  });

  it('allows the configured clock skew on exp, and no more', async () => {
    const now = f.clock.ms;
    const exp = Math.floor(now / 1000) - 4; // default skew: 5 s
    assert.equal(await outcome(f.verifier, await f.issuer.sign(now, { exp })), 'ok');
    const expired = await f.issuer.sign(now, { exp: Math.floor(now / 1000) - 6 });
    assert.equal(await outcome(f.verifier, expired), 'token_expired');
  });
});

describe('verify: forged and malformed tokens are refused', () => {
  let f: Fixture;
  let valid: string;
  before(async () => {
    f = await startFixture({ feed: false, verifier: { cacheSize: 0 } });
    valid = await f.issuer.sign(f.clock.ms);
    assert.equal(await outcome(f.verifier, valid), 'ok');
  });
  after(() => f.close());
  // The control: a properly signed token verifies, so each refusal below is for its own reason.
  beforeEach(async () => {
    assert.equal(await outcome(f.verifier, await f.issuer.sign(f.clock.ms)), 'ok');
  });

  const refused = async (token: string, code = 'token_invalid') =>
    assert.equal(await outcome(f.verifier, token), code);

  it('alg none, with and without a signature', async () => {
    const kid = f.issuer.currentKey.kid;
    const header = encodeJson({ alg: 'none', typ: 'at+jwt', kid });
    const payload = encodeJson(f.issuer.claims(f.clock.ms));
    await refused(`${header}.${payload}.`);
    await refused(`${header}.${payload}.${segments(valid)[2]}`);
    for (const alg of ['None', 'NONE', 'nOnE']) {
      await refused(`${encodeJson({ alg, typ: 'at+jwt', kid })}.${payload}.AAAA`);
    }
  });

  it('HS256 keyed with the public key (algorithm confusion)', async () => {
    const key = f.issuer.currentKey;
    const secrets = [
      new TextEncoder().encode(JSON.stringify(key.publicJwk)),
      base64url.decode(key.publicJwk.x!),
      new TextEncoder().encode(key.publicJwk.x),
    ];
    for (const secret of secrets) {
      const token = await new SignJWT(f.issuer.claims(f.clock.ms))
        .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: key.kid })
        .sign(secret);
      await refused(token);
    }
  });

  it('a header algorithm other than the key pins', async () => {
    const [, payload, signature] = segments(valid);
    for (const alg of ['ES256', 'RS256', 'PS256', 'Ed25519']) {
      const header = encodeJson({ alg, typ: 'at+jwt', kid: f.issuer.currentKey.kid });
      await refused(`${header}.${payload}.${signature}`);
    }
  });

  it('a modified payload or header with the original signature', async () => {
    const [header, payload, signature] = segments(valid);
    const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload))) as object;
    await refused(`${header}.${encodeJson({ ...claims, sub: 'admin' })}.${signature}`);
    await refused(`${header}.${encodeJson({ ...claims, roles: ['admin'] })}.${signature}`);
    await refused(`${header}.${encodeJson({ ...claims, exp: 4_102_444_800 })}.${signature}`);
    const decodedHeader = JSON.parse(new TextDecoder().decode(base64url.decode(header))) as object;
    await refused(`${encodeJson({ ...decodedHeader, extra: 1 })}.${payload}.${signature}`);
    await refused(`${encodeJson({ ...decodedHeader, typ: 'JWT' })}.${payload}.${signature}`);
    // A signature from another token of the same key.
    const other = await f.issuer.sign(f.clock.ms, { sub: 'someone-else' });
    await refused(`${header}.${payload}.${segments(other)[2]}`);
  });

  it('an attacker key offered through jwk, jku or kid', async () => {
    const attacker = await FakeIssuer.start();
    try {
      const key = attacker.currentKey;
      const claims = f.issuer.claims(f.clock.ms);
      const sign = (header: Record<string, unknown>) =>
        new SignJWT(claims)
          .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', ...header })
          .sign(key.privateKey);
      // Embedded key, under its own kid and under ours.
      await refused(await sign({ kid: key.kid, jwk: key.publicJwk }));
      await refused(await sign({ kid: f.issuer.currentKey.kid, jwk: key.publicJwk }));
      // A key set URL under the attacker's control is never fetched.
      await refused(await sign({ kid: key.kid, jku: `${attacker.url}/.well-known/jwks.json` }));
      await refused(await sign({ kid: key.kid, x5u: `${attacker.url}/cert.pem` }));
      assert.equal(attacker.jwksRequests, 0);
      // kid values that are paths, URLs or injections are just unknown names.
      for (const kid of ['../../etc/passwd', `${attacker.url}/key`, "' OR 1=1 --", '']) {
        await refused(await sign({ kid }));
      }
      await refused(await sign({ kid: undefined }));
    } finally {
      await attacker.close();
    }
  });

  it('a key the issuer no longer publishes', async () => {
    const unpublished = await f.issuer.addKey('EdDSA', false);
    f.clock.advance(31_000);
    await refused(await f.issuer.sign(f.clock.ms, {}, { key: unpublished }));
  });

  it('a wrong or missing typ', async () => {
    for (const typ of ['JWT', 'jwt', 'at+JWT+x', 'application/jwt', 'dpop+jwt', undefined]) {
      await refused(await f.issuer.sign(f.clock.ms, {}, { header: { typ } }));
    }
  });

  it('missing or wrong iss', async () => {
    for (const iss of [
      undefined,
      'https://evil.example',
      `${f.issuer.url}/`,
      f.issuer.url.toUpperCase(),
      ` ${f.issuer.url}`,
      42,
    ]) {
      await refused(await f.issuer.sign(f.clock.ms, { iss }));
    }
  });

  it('missing or wrong aud', async () => {
    for (const aud of [undefined, 'https://other.example', `${AUDIENCE}/`, '', [], 7]) {
      await refused(await f.issuer.sign(f.clock.ms, { aud }));
    }
    // Latchkey issues exactly one audience; an array, even one naming us, is not its token.
    await refused(await f.issuer.sign(f.clock.ms, { aud: [AUDIENCE, 'https://other.example'] }));
  });

  it('missing, malformed or past exp', async () => {
    await refused(await f.issuer.sign(f.clock.ms, { exp: undefined }));
    await refused(await f.issuer.sign(f.clock.ms, { exp: 'tomorrow' }));
    await refused(
      await f.issuer.sign(f.clock.ms, { exp: Math.floor(f.clock.ms / 1000) - 3600 }),
      'token_expired',
    );
  });

  it('missing or future iat, future nbf', async () => {
    const nowSeconds = Math.floor(f.clock.ms / 1000);
    await refused(await f.issuer.sign(f.clock.ms, { iat: undefined }));
    await refused(await f.issuer.sign(f.clock.ms, { iat: nowSeconds + 60 }));
    await refused(await f.issuer.sign(f.clock.ms, { nbf: nowSeconds + 60 }));
  });

  it('claims of the wrong type or missing', async () => {
    for (const overrides of [
      { sub: 42 },
      { sub: undefined },
      { jti: undefined },
      { client_id: undefined },
      { roles: 'admin' },
      { roles: undefined },
      { roles: [1] },
      { sid: 7 },
    ]) {
      await refused(await f.issuer.sign(f.clock.ms, overrides));
    }
  });

  it('unknown critical header parameters', async () => {
    await refused(
      await f.issuer.sign(
        f.clock.ms,
        {},
        { header: { crit: ['x-must'], 'x-must': 1 }, crit: { 'x-must': true } },
      ),
    );
  });

  it('strings that are not strict, canonical compact JWS', async () => {
    const [header, payload, signature] = segments(valid);
    const variants = [
      '',
      'not a token',
      `${header}.${payload}`,
      `${header}.${payload}.${signature}.extra`,
      `${header}.${payload}.${signature}.a.b`, // JWE-shaped
      `${header}.${payload}.${signature}=`,
      `${header}=.${payload}.${signature}`,
      `${header}.${payload}.${signature.replace(/-/g, '+').replace(/_/g, '/')}x+/`,
      ` ${valid}`,
      `${valid} `,
      `${valid}\n`,
      `${header}.${payload}.${signature.slice(0, 10)} ${signature.slice(10)}`,
      `${header}.${payload}.${signature}é`,
      `${header}..${signature}`,
      `${header}.${payload}.${signature}${'A'.repeat(8192)}`,
    ];
    for (const token of variants) await refused(token);
    // The same bytes spelled with non-zero spare bits in the last character.
    const last = signature[signature.length - 1]!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const respelled = alphabet[alphabet.indexOf(last) + 1]!;
    assert.equal(signature.length % 4, 2); // EdDSA: 64 bytes, 86 characters
    await refused(`${header}.${payload}.${signature.slice(0, -1)}${respelled}`);
    // Not a string at all (JavaScript callers).
    await refused(undefined as unknown as string);
    await refused({ toString: () => valid } as unknown as string);
  });
});

describe('createVerifier options', () => {
  const base = { issuer: 'https://auth.example.test', audience: AUDIENCE };

  it('refuses unsafe or broken options, naming the option', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ ...base, issuer: 'auth.example.test' }, 'issuer'],
      [{ ...base, issuer: 'http://auth.example.test' }, 'issuer'],
      [{ ...base, issuer: 'https://user:pw@auth.example.test' }, 'issuer'],
      [{ ...base, audience: '' }, 'audience[0]'],
      [{ ...base, audience: [] }, 'audience'],
      [{ ...base, clockSkew: 61_000 }, 'clockSkew'],
      [{ ...base, jwksCooldown: 0 }, 'jwksCooldown'],
      [{ ...base, maxStaleness: -1 }, 'maxStaleness'],
      [{ ...base, cacheSize: 1.5 }, 'cacheSize'],
      [{ ...base, jwksUrl: 'ftp://x.test/jwks' }, 'jwksUrl'],
      [{ ...base, revocations: { credential: { id: 'rs' } } }, 'revocations.credential.secret'],
      [
        { ...base, revocations: { credential: { id: 'rs', secret: 's' }, pollInterval: 30_000 } },
        'revocations.pollInterval',
      ],
      [
        { ...base, revocations: { credential: { id: 'rs', secret: 's' }, typo: 1 } },
        'revocations.typo',
      ],
      [{ ...base, failOpen: 'no' }, 'failOpen'],
      [{ ...base, maxStalenes: 1 }, 'maxStalenes'],
    ];
    for (const [options, option] of cases) {
      assert.throws(
        () => createVerifier(options as never),
        (error: unknown) => error instanceof VerifierConfigError && error.option === option,
        option,
      );
    }
  });

  it('allows plain http for loopback, or anywhere only when asked to', async () => {
    await createVerifier({ ...base, issuer: 'http://127.0.0.1:1', requestTimeout: 50 }).close();
    await createVerifier({ ...base, issuer: 'http://localhost:1', requestTimeout: 50 }).close();
    await createVerifier({
      ...base,
      issuer: 'http://latchkey.internal:8080',
      allowInsecureHttp: true,
      requestTimeout: 50,
    }).close();
  });
});

describe('verify: a forged kid never triggers a fetch for an alg it could not use', () => {
  it('alg none or HS256 with an unknown kid costs no JWKS request', async () => {
    const f = await startFixture({ feed: false });
    try {
      const before = f.issuer.jwksRequests;
      const payload = encodeJson(f.issuer.claims(f.clock.ms));
      for (const alg of ['none', 'HS256', 'HS512']) {
        const header = encodeJson({ alg, typ: 'at+jwt', kid: `forged-${alg}` });
        assert.equal(await outcome(f.verifier, `${header}.${payload}.AAAA`), 'token_invalid');
      }
      assert.equal(f.issuer.jwksRequests, before);
    } finally {
      await f.close();
    }
  });
});

// A key the verifier is handed never confuses it when it has no `alg` (it cannot be pinned).
describe('JWKS entries that cannot be pinned are skipped', () => {
  it('skips keys without alg, symmetric, private, encryption or duplicate keys', async () => {
    const issuer = await FakeIssuer.start();
    const extra = await generateKeyPair('EdDSA', { extractable: true });
    const extraPublic = await exportJWK(extra.publicKey);
    const extraPrivate = await exportJWK(extra.privateKey);
    const kid = await calculateJwkThumbprint(extraPublic);
    issuer.extraJwks = [
      { ...extraPublic, kid: 'no-alg' },
      { kty: 'oct', k: 'c2VjcmV0', kid: 'oct', alg: 'HS256' },
      { ...extraPrivate, kid: 'private', alg: 'EdDSA' },
      { ...extraPublic, kid: 'enc', alg: 'EdDSA', use: 'enc' },
      { ...extraPublic, kid: 'ops', alg: 'EdDSA', key_ops: ['sign'] },
      { ...extraPublic, kid: issuer.currentKey.kid, alg: 'EdDSA' },
      { ...extraPublic, kid: 'none', alg: 'none' },
      'not a key',
    ];
    const f = await startFixture({ issuer, feed: false });
    try {
      assert.equal(f.verifier.status().keys, 1);
      assert.equal(f.warnings.filter((w) => w.startsWith('JWKS key skipped')).length, 8);
      assert.equal(await outcome(f.verifier, await issuer.sign(f.clock.ms)), 'ok');
      const sign = (header: Record<string, unknown>) =>
        new SignJWT(issuer.claims(f.clock.ms))
          .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', ...header })
          .sign(extra.privateKey);
      for (const skipped of ['no-alg', 'private', 'enc', 'ops', issuer.currentKey.kid, kid]) {
        assert.equal(await outcome(f.verifier, await sign({ kid: skipped })), 'token_invalid');
      }
    } finally {
      await f.close();
    }
  });
});
