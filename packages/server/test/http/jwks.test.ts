// Keys and discovery: the JWKS carries public members only, RFC 8414 metadata points at the real
// endpoints, and a resource server that knows nothing but the issuer can verify access tokens,
// across a key rotation, for every signing algorithm.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  SignJWT,
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  generateKeyPair,
  jwtVerify,
  type JSONWebKeySet,
  type JWK,
} from 'jose';
import { runKeysRotate } from '../../src/cli/commands.js';
import { validateConfig } from '../../src/config/load.js';
import type { LatchkeyConfig } from '../../src/config/types.js';
import { startServer, type RunningServer } from '../../src/server.js';
import {
  PASSWORD,
  getMe,
  json,
  passwordGrant,
  signUp,
  startTestServer,
  uniqueEmail,
  type TestServer,
} from '../support/harness.js';

/** Members a private or symmetric JWK has and a public one never does (RFC 7517, 7518). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

const PUBLIC_MEMBERS: Record<string, string[]> = {
  OKP: ['alg', 'crv', 'kid', 'kty', 'use', 'x'],
  EC: ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'],
  RSA: ['alg', 'e', 'kid', 'kty', 'n', 'use'],
};

function assertPublicOnly(keys: readonly JWK[], alg: string): void {
  assert.ok(keys.length > 0);
  for (const key of keys) {
    for (const member of PRIVATE_MEMBERS) assert.ok(!(member in key), `${alg}: ${member} leaked`);
    assert.deepEqual(Object.keys(key).sort(), PUBLIC_MEMBERS[key.kty!], alg);
    assert.equal(key.alg, alg);
    assert.equal(key.use, 'sig');
    assert.equal(typeof key.kid, 'string');
  }
}

async function jwksOf(server: TestServer) {
  const response = await server.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
  assert.equal(response.statusCode, 200);
  return { response, jwks: json(response) as unknown as JSONWebKeySet };
}

describe('GET /.well-known/jwks.json and discovery, in process', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it('publishes public members only, with a cache lifetime', async () => {
    const { response, jwks } = await jwksOf(server);
    assert.deepEqual(Object.keys(jwks), ['keys']);
    assertPublicOnly(jwks.keys, 'EdDSA');
    assert.equal(jwks.keys.length, 1);
    const cacheControl = String(response.headers['cache-control']);
    assert.match(cacheControl, /max-age=\d+/);
    assert.doesNotMatch(cacheControl, /no-store|private/);
    assert.match(String(response.headers['content-type']), /^application\/json/);
  });

  it('serves RFC 8414 metadata pointing at the endpoints', async () => {
    const response = await server.app.inject({
      method: 'GET',
      url: '/.well-known/oauth-authorization-server',
    });
    assert.equal(response.statusCode, 200);
    const metadata = json(response);
    const issuer = server.config.issuer;
    assert.equal(metadata['issuer'], issuer);
    assert.equal(metadata['token_endpoint'], `${issuer}/v1/token`);
    assert.equal(metadata['jwks_uri'], `${issuer}/.well-known/jwks.json`);
    assert.equal(metadata['revocation_endpoint'], `${issuer}/v1/token/revoke`);
    assert.equal(metadata['introspection_endpoint'], `${issuer}/v1/token/introspect`);
    assert.deepEqual([...(metadata['grant_types_supported'] as string[])].sort(), [
      'password',
      'refresh_token',
    ]);
    // Every advertised endpoint exists here (the path of each URL routes to something).
    for (const name of ['token_endpoint', 'revocation_endpoint', 'introspection_endpoint']) {
      const probe = await server.app.inject({
        method: 'POST',
        url: new URL(metadata[name] as string).pathname,
        payload: {},
      });
      assert.notEqual(probe.statusCode, 404, name);
    }
  });

  it('keeps a retired key published until every token it signed has expired', async () => {
    const user = await signUp(server);
    const old = await passwordGrant(server, user.email, 'api');
    const oldKid = decodeProtectedHeader(old.access_token).kid!;
    await server.services.keys.rotate();
    const fresh = await passwordGrant(server, user.email, 'api');
    const newKid = decodeProtectedHeader(fresh.access_token).kid!;
    assert.notEqual(newKid, oldKid);

    const kids = async () => (await jwksOf(server)).jwks.keys.map((k) => k.kid).sort();
    assert.deepEqual(await kids(), [oldKid, newKid].sort());
    assertPublicOnly((await jwksOf(server)).jwks.keys, 'EdDSA');
    assert.equal((await getMe(server, old.access_token)).statusCode, 200);
    assert.equal((await getMe(server, fresh.access_token)).statusCode, 200);

    // The old token's last valid moment: its key is still published.
    server.clock.advance(old.expires_in * 1000);
    assert.deepEqual(await kids(), [oldKid, newKid].sort());
    // Long after every token of the old key expired, only the new key is published.
    server.clock.advance(60 * 60_000);
    assert.deepEqual(await kids(), [newKid]);
  });
});

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve, reject) =>
    probe.close((error) => (error ? reject(error) : resolve())),
  );
  return port;
}

interface RealServer {
  readonly server: RunningServer;
  readonly config: LatchkeyConfig;
  close(): Promise<void>;
}

/** A real listening Latchkey on SQLite in a fresh directory, with its issuer on the bound port. */
async function startRealServer(file: Record<string, unknown> = {}): Promise<RealServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'latchkey-jwks-'));
  // The issuer is settled before listening, so the port must be known in advance.
  const port = await freePort();
  const config = validateConfig(
    {
      port,
      issuer: `http://127.0.0.1:${port}`,
      logLevel: 'silent',
      dataDir,
      keys: { reloadInterval: '1s' },
      ...file,
    },
    {},
  );
  const server = await startServer(config);
  return {
    server,
    config,
    async close() {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function post(url: string, body: Record<string, string>): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const parsed = (await response.json()) as Record<string, unknown>;
  assert.ok(response.ok, `${url}: ${response.status} ${JSON.stringify(parsed)}`);
  return parsed;
}

/** Sign-up and password grant over real HTTP; the access token. */
async function login(issuer: string, email: string, clientId = 'app'): Promise<string> {
  const token = await post(`${issuer}/v1/token`, {
    grant_type: 'password',
    username: email,
    password: PASSWORD,
    client_id: clientId,
  });
  return token['access_token'] as string;
}

/** What a resource server does knowing only the issuer: discovery, then the remote JWKS. */
async function remoteVerifier(issuer: string, alg: string) {
  const response = await fetch(`${issuer}/.well-known/oauth-authorization-server`);
  assert.equal(response.status, 200);
  const metadata = (await response.json()) as Record<string, unknown>;
  assert.equal(metadata['issuer'], issuer);
  const keySet = createRemoteJWKSet(new URL(metadata['jwks_uri'] as string));
  return async (token: string) => {
    const { payload, protectedHeader } = await jwtVerify(token, keySet, {
      issuer,
      audience: issuer,
      typ: 'at+jwt',
      algorithms: [alg],
    });
    assert.equal(protectedHeader.typ, 'at+jwt');
    assert.equal(protectedHeader.alg, alg);
    return { payload, protectedHeader };
  };
}

describe('a resource server verifying tokens over a real socket', () => {
  it('verifies EdDSA tokens through discovery and the JWKS, before and after a key rotation', async () => {
    const real = await startRealServer();
    try {
      const issuer = real.config.issuer;
      assert.equal(real.server.url, issuer);
      const email = uniqueEmail('rs');
      const created = await post(`${issuer}/v1/accounts`, { email, password: PASSWORD });
      const userId = (created['user'] as { id: string }).id;

      const jwksResponse = await fetch(`${issuer}/.well-known/jwks.json`);
      assert.match(String(jwksResponse.headers.get('cache-control')), /max-age=\d+/);
      assertPublicOnly(((await jwksResponse.json()) as JSONWebKeySet).keys, 'EdDSA');

      const oldToken = await login(issuer, email);
      const before = await (await remoteVerifier(issuer, 'EdDSA'))(oldToken);
      assert.equal(before.payload.sub, userId);
      const oldKid = before.protectedHeader.kid;

      // `latchkey keys rotate` against the same data directory, while the server runs.
      const message = await runKeysRotate(real.config);
      assert.match(message, /new key/);
      await real.server.services.keys.reload();

      const newToken = await login(issuer, email);
      const newKid = decodeProtectedHeader(newToken).kid;
      assert.notEqual(newKid, oldKid);

      const verify = await remoteVerifier(issuer, 'EdDSA');
      assert.equal((await verify(oldToken)).payload.sub, userId);
      assert.equal((await verify(newToken)).payload.sub, userId);

      const jwks = (await (await fetch(`${issuer}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
      assert.deepEqual(jwks.keys.map((k) => k.kid).sort(), [oldKid, newKid].sort());
      assertPublicOnly(jwks.keys, 'EdDSA');

      // Latchkey itself still takes both.
      for (const token of [oldToken, newToken]) {
        const me = await fetch(`${issuer}/v1/me`, {
          headers: { authorization: `Bearer ${token}` },
        });
        assert.equal(me.status, 200);
      }
    } finally {
      await real.close();
    }
  });

  for (const alg of ['ES256', 'RS256']) {
    it(`verifies ${alg} tokens the same way`, async () => {
      const real = await startRealServer({ tokens: { algorithm: alg } });
      try {
        const issuer = real.config.issuer;
        const email = uniqueEmail(alg);
        await post(`${issuer}/v1/accounts`, { email, password: PASSWORD });
        const jwks = (await (
          await fetch(`${issuer}/.well-known/jwks.json`)
        ).json()) as JSONWebKeySet;
        assertPublicOnly(jwks.keys, alg);
        for (const clientId of ['app', 'api']) {
          const token = await login(issuer, email, clientId);
          const { payload, protectedHeader } = await (await remoteVerifier(issuer, alg))(token);
          assert.equal(payload['client_id'], clientId);
          assert.equal(protectedHeader.kid, jwks.keys[0]!.kid);
        }
      } finally {
        await real.close();
      }
    });
  }
});

describe('HS256', () => {
  const secret = 'an-hs256-secret-of-at-least-32-bytes!';
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ tokens: { algorithm: 'HS256', hs256Secret: secret } });
  });
  after(() => server.close());

  it('signs tokens /v1/me accepts, while the JWKS stays empty', async () => {
    const user = await signUp(server);
    for (const clientId of ['app', 'api']) {
      const pair = await passwordGrant(server, user.email, clientId);
      const header = decodeProtectedHeader(pair.access_token);
      assert.equal(header.alg, 'HS256');
      assert.equal(header.typ, 'at+jwt');
      assert.ok(!JSON.stringify(header).includes(secret));
      const { payload } = await jwtVerify(pair.access_token, new TextEncoder().encode(secret), {
        issuer: server.config.issuer,
        audience: server.config.issuer,
        typ: 'at+jwt',
        algorithms: ['HS256'],
        currentDate: new Date(server.clock.now()),
      });
      assert.equal(payload.sub, user.id);
      assert.equal((await getMe(server, pair.access_token)).statusCode, 200);
    }

    const { response, jwks } = await jwksOf(server);
    assert.deepEqual(jwks, { keys: [] });
    assert.ok(!response.body.includes(secret));
    assert.ok(!response.body.includes(Buffer.from(secret).toString('base64url')));
  });

  it('refuses a token signed with another secret or an asymmetric algorithm', async () => {
    const user = await signUp(server);
    const pair = await passwordGrant(server, user.email, 'api');
    const header = decodeProtectedHeader(pair.access_token);
    const claims = decodeJwt(pair.access_token);
    const otherSecret = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: header.kid! })
      .sign(new TextEncoder().encode(`${secret}-other`));
    const asymmetric = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: header.kid! })
      .sign((await generateKeyPair('EdDSA')).privateKey);
    for (const token of [otherSecret, asymmetric]) {
      const response = await getMe(server, token);
      assert.equal(response.statusCode, 401);
      assert.equal(response.headers['www-authenticate'], 'Bearer error="invalid_token"');
    }
  });
});

describe('a verifier without the issuer key set', () => {
  it('cannot verify Latchkey tokens with a JWKS from another instance', async () => {
    const one = await startTestServer();
    const two = await startTestServer();
    try {
      const user = await signUp(one);
      const pair = await passwordGrant(one, user.email, 'api');
      const { jwks } = await jwksOf(two);
      await assert.rejects(
        jwtVerify(pair.access_token, createLocalJWKSet(jwks), {
          issuer: one.config.issuer,
          typ: 'at+jwt',
        }),
      );
      const own = (await jwksOf(one)).jwks;
      const { payload } = await jwtVerify(pair.access_token, createLocalJWKSet(own), {
        issuer: one.config.issuer,
        audience: one.config.issuer,
        typ: 'at+jwt',
        algorithms: ['EdDSA'],
      });
      assert.equal(payload.sub, user.id);
    } finally {
      await one.close();
      await two.close();
    }
  });
});
