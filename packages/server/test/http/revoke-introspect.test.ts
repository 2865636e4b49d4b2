// RFC 7009 revocation and RFC 7662 introspection: a revocation takes effect on the very next
// request, and introspection tells a resource server exactly which tokens are still good.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { startBackgroundTasks } from '../../src/background.js';
import {
  getMe,
  json,
  passwordGrant,
  refresh,
  signUp,
  startTestServer,
  type TestServer,
} from '../support/harness.js';

const RS_ID = 'rs1';
const RS_SECRET = 'rs1-introspection-secret-0123456789abcdef';

type Params = Record<string, string>;

function post(
  server: TestServer,
  url: string,
  params: Params,
  form: boolean,
  authorization?: string,
) {
  return server.app.inject({
    method: 'POST',
    url,
    headers: {
      ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      ...(authorization !== undefined ? { authorization } : {}),
    },
    payload: form ? new URLSearchParams(params).toString() : params,
  });
}

const revoke = (server: TestServer, params: Params, form = false) =>
  post(server, '/v1/token/revoke', params, form);

function basic(id: string, secret: string): string {
  const credentials = `${encodeURIComponent(id)}:${encodeURIComponent(secret)}`;
  return `Basic ${Buffer.from(credentials).toString('base64')}`;
}

const introspect = (
  server: TestServer,
  params: Params,
  {
    form = false,
    authorization = basic(RS_ID, RS_SECRET),
  }: { form?: boolean; authorization?: string } = {},
) => post(server, '/v1/token/introspect', params, form, authorization);

async function introspectToken(server: TestServer, token: string) {
  const response = await introspect(server, { token });
  assert.equal(response.statusCode, 200, response.body);
  assert.equal(response.headers['cache-control'], 'no-store');
  return json(response);
}

function startServer() {
  return startTestServer({
    resourceServers: [{ id: RS_ID, secret: RS_SECRET }],
    tokens: { accessTtl: '5m', refreshIdleTtl: '1h', refreshReuseGrace: '10s' },
  });
}

describe('POST /v1/token/revoke', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.close());

  for (const form of [false, true]) {
    const encoding = form ? 'form' : 'JSON';

    it(`ends the session of a refresh token and its access tokens at once (${encoding})`, async () => {
      const user = await signUp(server);
      const pair = await passwordGrant(server, user.email);
      const other = await passwordGrant(server, user.email);
      assert.equal((await getMe(server, pair.access_token)).statusCode, 200);

      const response = await revoke(server, { token: pair.refresh_token! }, form);
      assert.equal(response.statusCode, 200, response.body);

      const refused = await refresh(server, pair.refresh_token!);
      assert.equal(refused.statusCode, 400);
      assert.deepEqual(json(refused), { error: 'invalid_grant' });
      const me = await getMe(server, pair.access_token);
      assert.equal(me.statusCode, 401);
      assert.equal(me.headers['www-authenticate'], 'Bearer error="invalid_token"');
      // The user's other session is not touched.
      assert.equal((await getMe(server, other.access_token)).statusCode, 200);
      assert.equal((await refresh(server, other.refresh_token!)).statusCode, 200);
    });

    it(`denies a revoked access token at once, and only that token (${encoding})`, async () => {
      const user = await signUp(server);
      for (const clientId of ['app', 'api']) {
        const pair = await passwordGrant(server, user.email, clientId);
        const sibling = await passwordGrant(server, user.email, clientId);
        assert.equal((await getMe(server, pair.access_token)).statusCode, 200);

        const response = await revoke(server, { token: pair.access_token }, form);
        assert.equal(response.statusCode, 200, response.body);

        assert.equal((await getMe(server, pair.access_token)).statusCode, 401, clientId);
        assert.equal((await getMe(server, sibling.access_token)).statusCode, 200, clientId);
        // Still denied later in its life.
        server.clock.advance(4 * 60_000);
        assert.equal((await getMe(server, pair.access_token)).statusCode, 401, clientId);
      }
    });

    it(`answers 200 for unknown, garbage and already revoked tokens (${encoding})`, async () => {
      const user = await signUp(server);
      const pair = await passwordGrant(server, user.email);
      const known = await revoke(server, { token: pair.refresh_token! }, form);
      assert.equal(known.statusCode, 200);
      for (const token of [
        'garbage',
        `lkr_${'A'.repeat(43)}`,
        'lkr_short',
        'a.b.c',
        `${pair.access_token.slice(0, -4)}AAAA`,
        pair.refresh_token!,
        pair.access_token,
      ]) {
        const response = await revoke(server, { token }, form);
        assert.equal(response.statusCode, 200, token);
        assert.equal(
          response.body,
          known.body,
          'the same answer whether or not the token was known',
        );
      }
    });
  }

  it('keeps a revoked access token denied through its clock leeway, after pruning', async () => {
    const user = await signUp(server);
    const pair = await passwordGrant(server, user.email, 'api');
    const exp = decodeJwt(pair.access_token).exp!;
    assert.equal((await revoke(server, { token: pair.access_token })).statusCode, 200);
    // Half a second past exp: within the 1 s Latchkey allows itself, so only the revocation
    // stands between this token and a 200. The background tasks prune what they think is over.
    server.clock.set(exp * 1000 + 500);
    const tasks = startBackgroundTasks(server.services, { warn: () => undefined });
    try {
      await tasks.runOnce();
    } finally {
      tasks.stop();
    }
    assert.equal((await getMe(server, pair.access_token)).statusCode, 401);
    assert.deepEqual(await introspectToken(server, pair.access_token), { active: false });
  });

  it('revokes whatever the hint says, and accepts client_id', async () => {
    const user = await signUp(server);
    const pair = await passwordGrant(server, user.email);
    const response = await revoke(
      server,
      { token: pair.refresh_token!, token_type_hint: 'access_token', client_id: 'app' },
      true,
    );
    assert.equal(response.statusCode, 200);
    assert.equal((await refresh(server, pair.refresh_token!)).statusCode, 400);

    const second = await passwordGrant(server, user.email);
    const byHint = await revoke(server, {
      token: second.access_token,
      token_type_hint: 'refresh_token',
      client_id: 'app',
    });
    assert.equal(byHint.statusCode, 200);
    assert.equal((await getMe(server, second.access_token)).statusCode, 401);
  });

  it('answers a missing, empty or repeated token with invalid_request', async () => {
    for (const response of [
      await revoke(server, {}),
      await revoke(server, { token_type_hint: 'refresh_token' }, true),
      await revoke(server, { token: '' }),
      await revoke(server, { token: '' }, true),
      await server.app.inject({ method: 'POST', url: '/v1/token/revoke' }),
      await server.app.inject({
        method: 'POST',
        url: '/v1/token/revoke',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'token=a&token=b',
      }),
    ]) {
      assert.equal(response.statusCode, 400, response.body);
      assert.equal(json(response)['error'], 'invalid_request');
    }
  });
});

describe('POST /v1/token/introspect', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.close());

  it('requires the credentials of a configured resource server', async () => {
    const user = await signUp(server);
    const pair = await passwordGrant(server, user.email);
    const params = { token: pair.access_token };
    const attempts: [string, string | undefined][] = [
      ['none', undefined],
      ['wrong secret', basic(RS_ID, `${RS_SECRET}x`)],
      ['unknown id', basic('rs2', RS_SECRET)],
      ['empty secret', basic(RS_ID, '')],
      ['not base64', 'Basic !!!'],
      ['Bearer', `Bearer ${pair.access_token}`],
    ];
    for (const [label, authorization] of attempts) {
      for (const form of [false, true]) {
        const response = await server.app.inject({
          method: 'POST',
          url: '/v1/token/introspect',
          headers: {
            ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
            ...(authorization !== undefined ? { authorization } : {}),
          },
          payload: form
            ? new URLSearchParams({ ...params, client_id: RS_ID }).toString()
            : { ...params, client_id: RS_ID },
        });
        assert.equal(response.statusCode, 401, label);
        assert.equal(json(response)['error'], 'invalid_client', label);
        assert.ok(!('active' in json(response)), label);
        assert.match(String(response.headers['www-authenticate']), /^Basic\b/, label);
      }
    }
  });

  it('describes an active access token', async () => {
    const user = await signUp(server);
    const hybrid = await passwordGrant(server, user.email, 'app');
    const body = await introspectToken(server, hybrid.access_token);
    const { token_type: tokenType, ...rest } = body;
    assert.deepEqual(rest, {
      active: true,
      sub: user.id,
      exp: decodeJwt(hybrid.access_token).exp,
      client_id: 'app',
      sid: hybrid.session_id,
    });
    assert.equal(typeof tokenType, 'string');

    const jwt = await passwordGrant(server, user.email, 'api');
    const jwtBody = await introspectToken(server, jwt.access_token);
    assert.deepEqual(jwtBody, {
      active: true,
      sub: user.id,
      exp: decodeJwt(jwt.access_token).exp,
      client_id: 'api',
      token_type: tokenType,
    });
  });

  it('accepts a form body and a client_id parameter', async () => {
    const user = await signUp(server);
    const pair = await passwordGrant(server, user.email, 'api');
    const response = await introspect(
      server,
      { token: pair.access_token, client_id: RS_ID, token_type_hint: 'access_token' },
      { form: true },
    );
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(json(response)['active'], true);
  });

  it('says only {active:false} for revoked, expired, unknown and garbage access tokens', async () => {
    const user = await signUp(server);
    const revoked = await passwordGrant(server, user.email, 'api');
    assert.equal((await revoke(server, { token: revoked.access_token })).statusCode, 200);
    assert.deepEqual(await introspectToken(server, revoked.access_token), { active: false });

    const ofRevokedSession = await passwordGrant(server, user.email, 'app');
    assert.equal(
      (await revoke(server, { token: ofRevokedSession.refresh_token! })).statusCode,
      200,
    );
    assert.deepEqual(await introspectToken(server, ofRevokedSession.access_token), {
      active: false,
    });

    for (const token of ['garbage', 'a.b.c', `${revoked.access_token.slice(0, -4)}AAAA`]) {
      assert.deepEqual(await introspectToken(server, token), { active: false }, token);
    }

    const expiring = await passwordGrant(server, user.email, 'api');
    assert.equal((await introspectToken(server, expiring.access_token))['active'], true);
    // Past exp plus the 1 s of leeway.
    server.clock.advance(5 * 60_000 + 1_001);
    assert.deepEqual(await introspectToken(server, expiring.access_token), { active: false });
  });

  it('describes the current refresh token of a live family, and no other', async () => {
    const user = await signUp(server);
    const pair = await passwordGrant(server, user.email, 'app');
    const current = await introspectToken(server, pair.refresh_token!);
    const { token_type: refreshType, exp, ...rest } = current;
    assert.deepEqual(rest, {
      active: true,
      sub: user.id,
      client_id: 'app',
      sid: pair.session_id,
    });
    assert.equal(typeof exp, 'number');
    // Never past the family's idle limit (1 h).
    assert.ok((exp as number) <= Math.ceil(server.clock.now() / 1000) + 3600);
    assert.ok((exp as number) > Math.floor(server.clock.now() / 1000));
    // A resource server must be able to tell a refresh token from an access token.
    const accessType = (await introspectToken(server, pair.access_token))['token_type'];
    assert.equal(typeof refreshType, 'string');
    assert.notEqual(refreshType, accessType);

    // Rotated: the old one is inactive (even within the grace window), the successor active.
    const rotated = json(await refresh(server, pair.refresh_token!));
    const successor = rotated['refresh_token'] as string;
    assert.deepEqual(await introspectToken(server, pair.refresh_token!), { active: false });
    assert.equal((await introspectToken(server, successor))['active'], true);

    // Revoked: the whole family is inactive.
    assert.equal((await revoke(server, { token: successor })).statusCode, 200);
    assert.deepEqual(await introspectToken(server, successor), { active: false });

    assert.deepEqual(await introspectToken(server, `lkr_${'A'.repeat(43)}`), { active: false });
  });

  it('says {active:false} for a refresh token past the idle limit', async () => {
    const user = await signUp(server);
    const pair = await passwordGrant(server, user.email, 'app');
    server.clock.advance(59 * 60_000);
    assert.equal((await introspectToken(server, pair.refresh_token!))['active'], true);
    server.clock.advance(60_001);
    assert.deepEqual(await introspectToken(server, pair.refresh_token!), { active: false });
  });

  it('answers a missing token with invalid_request', async () => {
    for (const form of [false, true]) {
      const response = await introspect(server, { client_id: RS_ID }, { form });
      assert.equal(response.statusCode, 400, response.body);
      assert.equal(json(response)['error'], 'invalid_request');
    }
  });
});
