// The password grant of the token strategies (hybrid `app`, jwt `api`) as JSON and as a form:
// response shape, the RFC 9068 access token it returns, RFC 6749 error answers, audit events,
// and GET /v1/me with the token.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import {
  PASSWORD,
  getMe,
  json,
  signUp,
  startTestServer,
  uniqueEmail,
  type TestServer,
} from '../support/harness.js';

const FORM = 'application/x-www-form-urlencoded';

function postTokenJSON(server: TestServer, payload: Record<string, unknown>) {
  return server.app.inject({ method: 'POST', url: '/v1/token', payload });
}

/** A form body built by hand, so a test can repeat a parameter. */
function postTokenForm(server: TestServer, pairs: [string, string][], contentType = FORM) {
  const body = pairs
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`)
    .join('&');
  return server.app.inject({
    method: 'POST',
    url: '/v1/token',
    headers: { 'content-type': contentType },
    payload: body,
  });
}

function passwordParams(email: string, clientId: string, password = PASSWORD) {
  return { grant_type: 'password', username: email, password, client_id: clientId };
}

const ACCESS_CLAIMS = ['aud', 'client_id', 'exp', 'iat', 'iss', 'jti', 'roles', 'sub'];

describe('POST /v1/token, password grant', () => {
  let server: TestServer;
  let kid: string;
  before(async () => {
    server = await startTestServer();
    const jwks = json(await server.app.inject({ method: 'GET', url: '/.well-known/jwks.json' }));
    const keys = jwks['keys'] as { kid: string }[];
    assert.equal(keys.length, 1);
    kid = keys[0]!.kid;
  });
  after(() => server.close());

  for (const encoding of ['json', 'form'] as const) {
    const send = (params: Record<string, string>) =>
      encoding === 'json'
        ? postTokenJSON(server, params)
        : postTokenForm(server, Object.entries(params));

    it(`issues an access and refresh token to the hybrid client (${encoding})`, async () => {
      const user = await signUp(server);
      const issuedAt = Math.floor(server.clock.now() / 1000);
      const response = await send(passwordParams(user.email, 'app'));
      assert.equal(response.statusCode, 200, response.body);
      assert.equal(response.headers['cache-control'], 'no-store');
      assert.match(String(response.headers['content-type']), /^application\/json/);
      const body = json(response);
      assert.deepEqual(Object.keys(body).sort(), [
        'access_token',
        'expires_in',
        'refresh_token',
        'session_id',
        'token_type',
      ]);
      assert.equal(body['token_type'], 'Bearer');
      assert.equal(body['expires_in'], 900);
      assert.match(body['refresh_token'] as string, /^lkr_[A-Za-z0-9_-]{43}$/);
      assert.equal(typeof body['session_id'], 'string');

      const token = body['access_token'] as string;
      assert.deepEqual(decodeProtectedHeader(token), { alg: 'EdDSA', kid, typ: 'at+jwt' });
      const claims = decodeJwt(token);
      assert.deepEqual(Object.keys(claims).sort(), [...ACCESS_CLAIMS, 'sid'].sort());
      assert.equal(claims.iss, server.config.issuer);
      assert.equal(claims.sub, user.id);
      assert.equal(claims.aud, server.config.issuer);
      assert.equal(claims.iat, issuedAt);
      assert.equal(claims.exp, issuedAt + 900);
      assert.match(claims.jti!, /^[A-Za-z0-9_-]{22,}$/);
      assert.equal(claims['client_id'], 'app');
      assert.equal(claims['sid'], body['session_id']);
      assert.deepEqual(claims['roles'], []);
      assert.ok(!('email' in claims));
      assert.ok(!JSON.stringify(claims).includes(user.email), 'no personal data in the token');
    });

    it(`issues only an access token to the jwt client (${encoding})`, async () => {
      const user = await signUp(server);
      const response = await send(passwordParams(user.email, 'api'));
      assert.equal(response.statusCode, 200, response.body);
      assert.equal(response.headers['cache-control'], 'no-store');
      const body = json(response);
      assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'token_type']);
      assert.equal(body['token_type'], 'Bearer');
      assert.equal(body['expires_in'], 900);

      const token = body['access_token'] as string;
      assert.deepEqual(decodeProtectedHeader(token), { alg: 'EdDSA', kid, typ: 'at+jwt' });
      const claims = decodeJwt(token);
      assert.deepEqual(Object.keys(claims).sort(), ACCESS_CLAIMS);
      assert.equal(claims.sub, user.id);
      assert.equal(claims['client_id'], 'api');
      assert.ok(!('sid' in claims));
      assert.ok(!('email' in claims));
    });
  }

  it('gives every token its own jti', async () => {
    const user = await signUp(server);
    const first = json(await postTokenJSON(server, passwordParams(user.email, 'api')));
    const second = json(await postTokenJSON(server, passwordParams(user.email, 'api')));
    assert.notEqual(
      decodeJwt(first['access_token'] as string).jti,
      decodeJwt(second['access_token'] as string).jti,
    );
  });

  it('accepts a form content type with a charset parameter', async () => {
    const user = await signUp(server);
    const response = await postTokenForm(
      server,
      Object.entries(passwordParams(user.email, 'api')),
      `${FORM}; charset=UTF-8`,
    );
    assert.equal(response.statusCode, 200, response.body);
  });

  it('decodes "+" in a form as a space (the password has spaces)', async () => {
    const user = await signUp(server);
    const body = new URLSearchParams(passwordParams(user.email, 'api')).toString();
    assert.match(body, /password=correct\+horse/);
    const response = await server.app.inject({
      method: 'POST',
      url: '/v1/token',
      headers: { 'content-type': FORM },
      payload: body,
    });
    assert.equal(response.statusCode, 200, response.body);
  });

  it('answers a wrong password and an unknown email identically', async () => {
    const user = await signUp(server);
    for (const encoding of ['json', 'form'] as const) {
      const send = (params: Record<string, string>) =>
        encoding === 'json'
          ? postTokenJSON(server, params)
          : postTokenForm(server, Object.entries(params));
      const wrongPassword = await send(passwordParams(user.email, 'app', `${PASSWORD}!`));
      const unknownEmail = await send(passwordParams(uniqueEmail('nobody'), 'app'));
      for (const response of [wrongPassword, unknownEmail]) {
        assert.equal(response.statusCode, 400);
        assert.deepEqual(json(response), { error: 'invalid_grant' });
        assert.equal(response.headers['cache-control'], 'no-store');
      }
      assert.equal(wrongPassword.body, unknownEmail.body);
      assert.equal(wrongPassword.headers['content-type'], unknownEmail.headers['content-type']);
    }
  });

  it('refuses the session client the password grant', async () => {
    const user = await signUp(server);
    for (const response of [
      await postTokenJSON(server, passwordParams(user.email, 'web')),
      await postTokenForm(server, Object.entries(passwordParams(user.email, 'web'))),
    ]) {
      assert.equal(response.statusCode, 400);
      assert.equal(json(response)['error'], 'unauthorized_client');
    }
  });

  it('answers an unknown client with 401 invalid_client', async () => {
    const user = await signUp(server);
    for (const response of [
      await postTokenJSON(server, passwordParams(user.email, 'nope')),
      await postTokenForm(server, Object.entries(passwordParams(user.email, 'nope'))),
    ]) {
      assert.equal(response.statusCode, 401);
      assert.equal(json(response)['error'], 'invalid_client');
      assert.ok(!('access_token' in json(response)));
    }
  });

  it('answers a missing or empty parameter with invalid_request', async () => {
    const user = await signUp(server);
    const complete = passwordParams(user.email, 'app');
    for (const name of Object.keys(complete) as (keyof typeof complete)[]) {
      const { [name]: _dropped, ...missing } = complete;
      for (const response of [
        await postTokenJSON(server, missing),
        await postTokenForm(server, Object.entries(missing)),
        await postTokenJSON(server, { ...complete, [name]: '' }),
        await postTokenForm(server, Object.entries({ ...complete, [name]: '' })),
      ]) {
        assert.equal(response.statusCode, 400, `without ${name}`);
        assert.equal(json(response)['error'], 'invalid_request', `without ${name}`);
      }
    }
  });

  it('answers a non-string parameter, an empty body and a non-object body with invalid_request', async () => {
    const user = await signUp(server);
    const responses = [
      await postTokenJSON(server, { ...passwordParams(user.email, 'app'), password: 42 }),
      await postTokenJSON(server, { ...passwordParams(user.email, 'app'), username: [user.email] }),
      await server.app.inject({ method: 'POST', url: '/v1/token' }),
      await postTokenForm(server, []),
      await server.app.inject({
        method: 'POST',
        url: '/v1/token',
        headers: { 'content-type': 'application/json' },
        payload: '["password"]',
      }),
    ];
    for (const [index, response] of responses.entries()) {
      assert.equal(response.statusCode, 400, `case ${index}: ${response.body}`);
      assert.equal(json(response)['error'], 'invalid_request', `case ${index}`);
    }
  });

  it('answers a repeated form parameter with invalid_request', async () => {
    const user = await signUp(server);
    const params = Object.entries(passwordParams(user.email, 'app'));
    for (const [name, value] of params) {
      const response = await postTokenForm(server, [...params, [name, value]]);
      assert.equal(response.statusCode, 400, `repeated ${name}`);
      assert.equal(json(response)['error'], 'invalid_request', `repeated ${name}`);
    }
    // Even with different values: neither may win.
    const response = await postTokenForm(server, [...params, ['username', uniqueEmail()]]);
    assert.equal(json(response)['error'], 'invalid_request');
  });

  it('answers an unknown grant type with unsupported_grant_type', async () => {
    const user = await signUp(server);
    for (const grantType of ['client_credentials', 'authorization_code', 'PASSWORD', 'x']) {
      const params = { ...passwordParams(user.email, 'app'), grant_type: grantType };
      for (const response of [
        await postTokenJSON(server, params),
        await postTokenForm(server, Object.entries(params)),
      ]) {
        assert.equal(response.statusCode, 400, grantType);
        assert.equal(json(response)['error'], 'unsupported_grant_type', grantType);
      }
    }
  });

  it('ignores unrecognised parameters (RFC 6749 section 3.2)', async () => {
    const user = await signUp(server);
    const extra = { ...passwordParams(user.email, 'app'), scope: 'openid', foo: 'bar' };
    const form = await postTokenForm(server, Object.entries(extra));
    assert.equal(form.statusCode, 200, form.body);
    const jsonResponse = await postTokenJSON(server, { ...extra, nested: { a: 1 }, n: 3 });
    assert.equal(jsonResponse.statusCode, 200, jsonResponse.body);
  });

  it('records login_succeeded and login_failed audit events', async () => {
    const user = await signUp(server);
    const pair = json(await postTokenJSON(server, passwordParams(user.email, 'app')));
    assert.equal((await postTokenJSON(server, passwordParams(user.email, 'api'))).statusCode, 200);
    const wrong = await postTokenJSON(server, passwordParams(user.email, 'app', `${PASSWORD}x`));
    assert.equal(wrong.statusCode, 400);

    const succeeded = await server.services.storage.listAudit({
      userId: user.id,
      type: 'login_succeeded',
      limit: 10,
    });
    assert.equal(succeeded.length, 2);
    const hybrid = succeeded.find((event) => event.clientId === 'app');
    const jwt = succeeded.find((event) => event.clientId === 'api');
    assert.equal(hybrid?.sessionId, pair['session_id']);
    assert.equal(jwt?.sessionId, null);

    const failed = await server.services.storage.listAudit({
      userId: user.id,
      type: 'login_failed',
      limit: 10,
    });
    assert.equal(failed.length, 1);
    assert.equal(failed[0]?.clientId, 'app');
    assert.ok(!JSON.stringify(failed).includes(PASSWORD), 'no password in the audit log');

    // An unknown email is recorded too, without a user.
    const countAnonymous = async () =>
      (await server.services.storage.listAudit({ type: 'login_failed', limit: 1000 })).filter(
        (event) => event.userId === null,
      ).length;
    const before = await countAnonymous();
    await postTokenJSON(server, passwordParams(uniqueEmail('ghost'), 'api'));
    assert.equal(await countAnonymous(), before + 1);
  });
});

describe('GET /v1/me with a Bearer access token', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  async function login(clientId: string) {
    const user = await signUp(server);
    const response = await postTokenJSON(server, passwordParams(user.email, clientId));
    assert.equal(response.statusCode, 200);
    return { user, pair: json(response) };
  }

  it('describes the user and the hybrid credential', async () => {
    const { user, pair } = await login('app');
    const token = pair['access_token'] as string;
    const response = await getMe(server, token);
    assert.equal(response.statusCode, 200, response.body);
    const body = json(response);
    const expected = (await server.services.accounts.findUser(user.id))!;
    assert.deepEqual(body, {
      user: {
        id: user.id,
        email: user.email,
        roles: [],
        status: 'active',
        createdAt: new Date(expected.createdAt).toISOString(),
      },
      auth: {
        strategy: 'hybrid',
        clientId: 'app',
        sessionId: pair['session_id'],
        expiresAt: new Date(decodeJwt(token).exp! * 1000).toISOString(),
      },
    });
  });

  it('describes the jwt credential without a session', async () => {
    const { user, pair } = await login('api');
    const token = pair['access_token'] as string;
    const body = json(await getMe(server, token));
    assert.equal((body['user'] as { id: string }).id, user.id);
    assert.deepEqual(body['auth'], {
      strategy: 'jwt',
      clientId: 'api',
      expiresAt: new Date(decodeJwt(token).exp! * 1000).toISOString(),
    });
  });

  it('takes the Bearer scheme name in any case', async () => {
    const { user, pair } = await login('api');
    for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR']) {
      const response = await server.app.inject({
        method: 'GET',
        url: '/v1/me',
        headers: { authorization: `${scheme} ${pair['access_token'] as string}` },
      });
      assert.equal(response.statusCode, 200, scheme);
      assert.equal((json(response)['user'] as { id: string }).id, user.id);
    }
  });

  it('answers a request without credentials with 401', async () => {
    const response = await server.app.inject({ method: 'GET', url: '/v1/me' });
    assert.equal(response.statusCode, 401);
    assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
    assert.equal(json(response)['code'], 'unauthenticated');
    assert.match(String(response.headers['www-authenticate']), /^Bearer\b/);
  });

  it('refuses another scheme or an empty Bearer', async () => {
    const { pair } = await login('api');
    for (const authorization of [
      `Basic ${pair['access_token'] as string}`,
      `Token ${pair['access_token'] as string}`,
      'Bearer',
      'Bearer ',
      `Bearer${pair['access_token'] as string}`,
    ]) {
      const response = await server.app.inject({
        method: 'GET',
        url: '/v1/me',
        headers: { authorization },
      });
      assert.equal(response.statusCode, 401, authorization);
      assert.equal(response.headers['www-authenticate'], 'Bearer error="invalid_token"');
    }
  });
});
