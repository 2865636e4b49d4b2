// The error contract of API.md "Conventions": problem+json on the API, the RFC 6749 shape on the
// OAuth endpoints, the body limits and parsers, and a 5xx that tells the client nothing internal.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import {
  PASSWORD,
  json,
  startTestServer,
  uniqueEmail,
  type TestServer,
} from '../support/harness.js';

const PROBLEM_KEYS = ['code', 'detail', 'status', 'title', 'type'];
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

/** Asserts an RFC 9457 problem with `status` and `code`; returns the body. */
function assertProblem(
  response: LightMyRequestResponse,
  status: number,
  code: string,
): Record<string, unknown> {
  assert.equal(response.statusCode, status, response.body);
  assert.match(String(response.headers['content-type']), /^application\/problem\+json(;|$)/);
  assert.equal(response.headers['x-content-type-options'], 'nosniff');
  const body = json(response);
  for (const key of Object.keys(body)) assert.ok(PROBLEM_KEYS.includes(key), `extra key ${key}`);
  assert.equal(typeof body['type'], 'string');
  assert.ok(URL.canParse(body['type'] as string), 'type is a URI');
  assert.equal(typeof body['title'], 'string');
  assert.equal(body['status'], status);
  assert.equal(body['code'], code);
  if ('detail' in body) assert.equal(typeof body['detail'], 'string');
  return body;
}

/** Asserts an RFC 6749 section 5.2 error; returns the body. */
function assertOAuthError(response: LightMyRequestResponse, status: number, error: string): void {
  assert.equal(response.statusCode, status, response.body);
  assert.match(String(response.headers['content-type']), /^application\/json(;|$)/);
  assert.equal(response.headers['x-content-type-options'], 'nosniff');
  assert.equal(response.headers['cache-control'], 'no-store');
  const body = json(response);
  for (const key of Object.keys(body)) {
    assert.ok(['error', 'error_description'].includes(key), `extra key ${key}`);
  }
  assert.equal(body['error'], error);
}

describe('error responses', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  /** What a refused request must leave untouched. */
  async function snapshot() {
    const users = await server.services.storage.listUsers({ limit: 100_000 });
    const audit = await server.services.storage.listAudit({ limit: 100_000 });
    return { users: users.length, audit: audit.length };
  }

  function postAccounts(payload: string, contentType = 'application/json') {
    return server.app.inject({
      method: 'POST',
      url: '/v1/accounts',
      headers: { 'content-type': contentType },
      payload,
    });
  }

  function postToken(payload: string, contentType = 'application/json') {
    return server.app.inject({
      method: 'POST',
      url: '/v1/token',
      headers: { 'content-type': contentType },
      payload,
    });
  }

  describe('problem+json on the API', () => {
    it('answers malformed JSON with 400 validation_failed, never 500', async () => {
      const before = await snapshot();
      for (const payload of [
        '{"email":',
        '{email: "a"}',
        "{'a':1}",
        '[1,]',
        '{"a":1}}',
        '\u0000',
      ]) {
        assertProblem(await postAccounts(payload), 400, 'validation_failed');
      }
      assertProblem(await postAccounts(''), 400, 'validation_failed');
      assert.deepEqual(await snapshot(), before);
    });

    it('answers a body over 16 KiB with 413 payload_too_large, and accepts 16 KiB to parse', async () => {
      const before = await snapshot();
      const email = uniqueEmail('big');
      const frame = JSON.stringify({ email, password: '' });
      const exact = JSON.stringify({ email, password: 'p'.repeat(16 * 1024 - frame.length) });
      assert.equal(Buffer.byteLength(exact), 16 * 1024);
      // At the limit the body is parsed (and refused by the schema: the password is too long).
      assertProblem(await postAccounts(exact), 400, 'validation_failed');
      assertProblem(await postAccounts(`${exact} `), 413, 'payload_too_large');
      assertProblem(await postAccounts(' '.repeat(100_000)), 413, 'payload_too_large');
      assert.deepEqual(await snapshot(), before);
    });

    it('answers a content type other than JSON with 415 unsupported_media_type', async () => {
      const before = await snapshot();
      const body = JSON.stringify({ email: uniqueEmail(), password: PASSWORD });
      for (const type of ['application/xml', 'application/x-www-form-urlencoded', 'image/png']) {
        assertProblem(await postAccounts(body, type), 415, 'unsupported_media_type');
      }
      assert.deepEqual(await snapshot(), before);
    });

    it('answers text/plain with 415 unsupported_media_type', async () => {
      const before = await snapshot();
      const body = JSON.stringify({ email: uniqueEmail(), password: PASSWORD });
      assertProblem(await postAccounts(body, 'text/plain'), 415, 'unsupported_media_type');
      const token = JSON.stringify({ grant_type: 'password' });
      assertProblem(await postToken(token, 'text/plain'), 415, 'unsupported_media_type');
      assert.deepEqual(await snapshot(), before);
    });

    it('refuses unknown JSON fields with 400 validation_failed', async () => {
      const before = await snapshot();
      for (const extra of [{ roles: ['admin'] }, { status: 'active' }, { admin: true }]) {
        const payload = JSON.stringify({ email: uniqueEmail(), password: PASSWORD, ...extra });
        assertProblem(await postAccounts(payload), 400, 'validation_failed');
      }
      assert.deepEqual(await snapshot(), before);
    });

    it('refuses wrong types, missing fields and non-object bodies with 400', async () => {
      const before = await snapshot();
      for (const body of [
        { email: 5, password: PASSWORD },
        { email: uniqueEmail(), password: ['x'] },
        { email: null, password: PASSWORD },
        { email: uniqueEmail(), password: 123456789012345 },
        { email: { $ne: '' }, password: PASSWORD },
        { email: uniqueEmail() },
        { password: PASSWORD },
        {},
      ]) {
        assertProblem(await postAccounts(JSON.stringify(body)), 400, 'validation_failed');
      }
      for (const payload of ['null', '[]', '"text"', '42', 'true']) {
        assertProblem(await postAccounts(payload), 400, 'validation_failed');
      }
      assert.deepEqual(await snapshot(), before);
    });

    it('refuses __proto__ and constructor keys without polluting any prototype', async () => {
      const before = await snapshot();
      for (const payload of [
        `{"email":"${uniqueEmail()}","password":"${PASSWORD}","__proto__":{"polluted":true}}`,
        `{"email":"${uniqueEmail()}","password":"${PASSWORD}","__proto__":{"roles":["admin"]}}`,
        `{"email":"${uniqueEmail()}","password":"${PASSWORD}","constructor":{"prototype":{"polluted":true}}}`,
      ]) {
        const response = await postAccounts(payload);
        assert.ok(response.statusCode >= 400 && response.statusCode < 500, response.body);
        assertProblem(response, 400, 'validation_failed');
      }
      const tokenResponse = await postToken(
        `{"grant_type":"password","__proto__":{"polluted":true}}`,
      );
      assertOAuthError(tokenResponse, 400, 'invalid_request');
      assert.deepEqual(await snapshot(), before);
      // A form body keeps `__proto__` as a plain parameter name.
      const form = await postToken(
        '__proto__=polluted&grant_type=password&username=x%40example.test&password=p&client_id=app',
        'application/x-www-form-urlencoded',
      );
      assertOAuthError(form, 400, 'invalid_grant');
      assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
      assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false);
      assert.equal(({} as Record<string, unknown>)['roles'], undefined);
      assert.equal((await snapshot()).users, before.users);
    });

    it('answers an unknown route or method with 404 not_found', async () => {
      const before = await snapshot();
      assertProblem(await server.app.inject({ url: '/v1/nope' }), 404, 'not_found');
      assertProblem(await server.app.inject({ url: '/' }), 404, 'not_found');
      assertProblem(
        await server.app.inject({ method: 'POST', url: '/v1/admin/users', payload: {} }),
        404,
        'not_found',
      );
      assertProblem(
        await server.app.inject({ method: 'PUT', url: '/v1/accounts' }),
        404,
        'not_found',
      );
      assert.deepEqual(await snapshot(), before);
    });

    it('answers a missing Bearer token with 401 unauthenticated', async () => {
      const response = await server.app.inject({ url: '/v1/me' });
      assertProblem(response, 401, 'unauthenticated');
      assert.match(String(response.headers['www-authenticate']), /^Bearer/);
    });

    it('sends X-Content-Type-Options: nosniff on every response', async () => {
      const requests: InjectOptions[] = [
        { url: '/healthz' },
        { url: '/readyz' },
        { url: '/metrics' },
        { url: '/.well-known/jwks.json' },
        { url: '/.well-known/oauth-authorization-server' },
        { url: '/v1/me' },
        { url: '/v1/me', headers: { authorization: 'Bearer x.y.z' } },
        { url: '/does-not-exist' },
        {
          method: 'POST',
          url: '/v1/accounts',
          payload: { email: uniqueEmail(), password: PASSWORD },
        },
        { method: 'POST', url: '/v1/accounts', payload: { email: 'bad' } },
        {
          method: 'POST',
          url: '/v1/accounts',
          headers: { 'content-type': 'application/json' },
          payload: '{',
        },
        {
          method: 'POST',
          url: '/v1/accounts',
          headers: { 'content-type': 'application/xml' },
          payload: '<a/>',
        },
        {
          method: 'POST',
          url: '/v1/token',
          payload: { grant_type: 'password', username: 'a', password: 'b', client_id: 'app' },
        },
        { method: 'POST', url: '/v1/token', payload: { grant_type: 'magic' } },
        { method: 'POST', url: '/v1/token/revoke', payload: { token: 'x' } },
        { method: 'POST', url: '/v1/token/introspect', payload: { token: 'x' } },
      ];
      for (const request of requests) {
        const response = await server.app.inject(request);
        assert.equal(
          response.headers['x-content-type-options'],
          'nosniff',
          `${JSON.stringify(request.url)} (${response.statusCode})`,
        );
      }
    });
  });

  describe('RFC 6749 errors on the OAuth endpoints', () => {
    it('answers malformed JSON with 400 invalid_request', async () => {
      const before = await snapshot();
      for (const payload of ['{"grant_type":', '{grant_type: 1}', '']) {
        assertOAuthError(await postToken(payload), 400, 'invalid_request');
      }
      assertOAuthError(
        await server.app.inject({
          method: 'POST',
          url: '/v1/token/revoke',
          headers: { 'content-type': 'application/json' },
          payload: '{"token":',
        }),
        400,
        'invalid_request',
      );
      assert.deepEqual(await snapshot(), before);
    });

    it('answers missing or mistyped parameters with invalid_request', async () => {
      for (const body of [
        {},
        { grant_type: 5 },
        { grant_type: 'password', username: ['a'], password: 'p', client_id: 'app' },
        { grant_type: 'password', username: 'a@example.test', client_id: 'app' },
      ]) {
        assertOAuthError(await postToken(JSON.stringify(body)), 400, 'invalid_request');
      }
      for (const payload of ['null', '[]', '"grant_type=password"']) {
        assertOAuthError(await postToken(payload), 400, 'invalid_request');
      }
    });

    it('answers an unknown grant type with unsupported_grant_type', async () => {
      assertOAuthError(
        await postToken(JSON.stringify({ grant_type: 'client_credentials' })),
        400,
        'unsupported_grant_type',
      );
    });

    it('answers a repeated form parameter with invalid_request', async () => {
      assertOAuthError(
        await postToken(
          'grant_type=password&grant_type=refresh_token',
          'application/x-www-form-urlencoded',
        ),
        400,
        'invalid_request',
      );
    });

    it('keeps 413 for a body over 16 KiB, JSON or form', async () => {
      const before = await snapshot();
      const big = 'x'.repeat(17 * 1024);
      const jsonBody = await postToken(JSON.stringify({ grant_type: 'password', password: big }));
      assert.equal(jsonBody.statusCode, 413);
      const form = await postToken(
        `grant_type=password&password=${big}`,
        'application/x-www-form-urlencoded',
      );
      assert.equal(form.statusCode, 413);
      assert.deepEqual(await snapshot(), before);
    });

    it('answers introspection without credentials with 401 invalid_client', async () => {
      const response = await server.app.inject({
        method: 'POST',
        url: '/v1/token/introspect',
        payload: { token: 'x' },
      });
      assertOAuthError(response, 401, 'invalid_client');
      assert.match(String(response.headers['www-authenticate']), /^Basic/);
    });
  });
});

/** Nothing of the failure itself: no stack frame, error class, driver, SQL or library message. */
function assertNothingInternal(body: string): void {
  assert.doesNotMatch(body, /Error:|\bat \S+ \(|\.[cm]?[jt]s\b|node:/);
  assert.doesNotMatch(body, /kysely|sqlite|driver|destroy|select |stack/i);
}

describe('a 5xx answer', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
    assert.equal((await server.app.inject({ url: '/readyz' })).statusCode, 200);
    // Storage that has gone away: every query now throws an internal error.
    await server.services.storage.close();
  });
  after(() => server.close());

  function assertGeneric(response: LightMyRequestResponse): void {
    const body = assertProblem(response, 500, 'internal_error');
    const detail = String(body['detail']);
    assert.match(detail, UUID, 'the detail carries the request ID');
    assertNothingInternal(response.body);
    assert.equal(response.body.includes(PASSWORD), false);
  }

  it('is generic on the API and carries the request ID', async () => {
    const first = await server.app.inject({
      method: 'POST',
      url: '/v1/accounts',
      payload: { email: uniqueEmail('down'), password: PASSWORD },
    });
    assertGeneric(first);
    const second = await server.app.inject({
      method: 'POST',
      url: '/v1/accounts',
      payload: { email: uniqueEmail('down'), password: PASSWORD },
    });
    assertGeneric(second);
    // Each answer names its own request.
    assert.notEqual(
      UUID.exec(json(first)['detail'] as string)?.[0],
      UUID.exec(json(second)['detail'] as string)?.[0],
    );
  });

  it('is generic on the OAuth endpoints too', async () => {
    const response = await server.app.inject({
      method: 'POST',
      url: '/v1/token',
      payload: {
        grant_type: 'password',
        username: uniqueEmail('down'),
        password: PASSWORD,
        client_id: 'app',
      },
    });
    assert.equal(response.statusCode, 500);
    assertNothingInternal(response.body);
    assert.match(response.body, UUID);
  });

  it('makes /readyz answer 503 while /healthz stays 200', async () => {
    assertProblem(await server.app.inject({ url: '/readyz' }), 503, 'service_unavailable');
    assert.equal((await server.app.inject({ url: '/healthz' })).statusCode, 200);
  });
});
