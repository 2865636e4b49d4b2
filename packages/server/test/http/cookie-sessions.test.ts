// The session strategy: cookie attributes as a browser parses them, fixation-proof login, idle and
// absolute timeouts on an injected clock, logout, and the CSRF matrix.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CookieJar } from 'tough-cookie';
import type { LightMyRequestResponse } from 'fastify';
import { DependencyUnavailableError } from '../../src/core/errors.js';
import {
  PASSWORD,
  json,
  passwordGrant,
  signUp,
  startTestServer,
  type TestServer,
} from '../support/harness.js';

const ISSUER = 'https://auth.example.test';

function setCookieHeaders(response: LightMyRequestResponse): string[] {
  const header = response.headers['set-cookie'];
  if (header === undefined) return [];
  return Array.isArray(header) ? header : [header];
}

/** A browser-like client: a strict cookie jar and same-origin requests. */
class Browser {
  readonly jar = new CookieJar(undefined, {
    prefixSecurity: 'strict',
    rejectPublicSuffixes: false,
  });
  csrfToken = '';

  constructor(private readonly server: TestServer) {}

  async request(
    method: 'GET' | 'POST' | 'DELETE',
    url: string,
    options: { payload?: unknown; headers?: Record<string, string>; csrf?: boolean } = {},
  ): Promise<LightMyRequestResponse> {
    const cookie = await this.jar.getCookieString(`${ISSUER}${url}`);
    const response = await this.server.app.inject({
      method,
      url,
      headers: {
        ...(cookie ? { cookie } : {}),
        ...(options.csrf !== false && method !== 'GET' && this.csrfToken
          ? { 'x-csrf-token': this.csrfToken }
          : {}),
        ...options.headers,
      },
      ...(options.payload !== undefined
        ? { payload: options.payload as Record<string, unknown> }
        : {}),
    });
    for (const header of setCookieHeaders(response))
      await this.jar.setCookie(header, `${ISSUER}${url}`);
    return response;
  }

  async login(email: string, password = PASSWORD): Promise<LightMyRequestResponse> {
    const response = await this.request('POST', '/v1/session', { payload: { email, password } });
    if (response.statusCode === 200) this.csrfToken = json(response)['csrfToken'] as string;
    return response;
  }

  async cookieValue(): Promise<string | undefined> {
    const cookies = await this.jar.getCookies(`${ISSUER}/`);
    return cookies.find((c) => c.key === '__Host-lk_session')?.value;
  }
}

describe('cookie sessions', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      issuer: ISSUER,
      session: { idleTtl: '30m', absoluteTtl: '8h' },
      clients: [
        { id: 'web', strategy: 'session', allowedOrigins: ['https://app.example.test'] },
        { id: 'app', strategy: 'hybrid' },
        { id: 'api', strategy: 'jwt' },
        { id: 'kiosk', strategy: 'session', singleSession: true },
      ],
    });
  });
  after(() => server.close());

  it('sets a __Host- cookie a strict browser accepts: HttpOnly, Secure, Path=/, SameSite=Lax', async () => {
    const user = await signUp(server);
    const browser = new Browser(server);
    const response = await browser.login(user.email);
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['cache-control'], 'no-store');
    const [header] = setCookieHeaders(response);
    assert.match(header!, /^__Host-lk_session=[A-Za-z0-9_-]{43};/);
    assert.match(header!, /HttpOnly/);
    assert.match(header!, /Secure/);
    assert.match(header!, /Path=\//);
    assert.match(header!, /SameSite=Lax/);
    assert.doesNotMatch(header!, /Domain=/);
    const [cookie] = await browser.jar.getCookies(`${ISSUER}/`);
    assert.equal(cookie?.httpOnly, true);
    assert.equal(cookie?.secure, true);
    const body = json(response);
    assert.equal((body['user'] as { email: string }).email, user.email);
    assert.equal(typeof body['csrfToken'], 'string');
    // Storage holds only the hash of the cookie value.
    const value = await browser.cookieValue();
    const session = (body['session'] as { id: string }).id;
    assert.equal((await server.services.storage.findSessionBySecretHash(value!))?.id, undefined);
    assert.equal((await server.services.storage.findSessionById(session))?.id, session);
  });

  it('never adopts a cookie sent with the login (no fixation)', async () => {
    const user = await signUp(server);
    const browser = new Browser(server);
    await browser.login(user.email);
    const before = await browser.cookieValue();
    await browser.login(user.email);
    const afterLogin = await browser.cookieValue();
    assert.notEqual(afterLogin, before);

    const planted = 'A'.repeat(43);
    const response = await server.app.inject({
      method: 'POST',
      url: '/v1/session',
      headers: { cookie: `__Host-lk_session=${planted}` },
      payload: { email: user.email, password: PASSWORD },
    });
    assert.equal(response.statusCode, 200);
    assert.doesNotMatch(setCookieHeaders(response)[0]!, new RegExp(planted));
  });

  it('reads the session with GET /v1/session and /v1/me', async () => {
    const user = await signUp(server);
    const browser = new Browser(server);
    await browser.login(user.email);
    const current = await browser.request('GET', '/v1/session');
    assert.equal(current.statusCode, 200);
    assert.equal(json(current)['csrfToken'], browser.csrfToken);
    // Served from the session cache, yet the device details come from the stored record.
    const session = json(current)['session'] as { ip: string | null; current: boolean };
    assert.equal(session.ip, '127.0.0.1');
    assert.equal(session.current, true);
    const me = json(await browser.request('GET', '/v1/me'));
    assert.equal((me['auth'] as { strategy: string }).strategy, 'session');
  });

  it('expires after the idle timeout, slides on use at most once a minute', async () => {
    const user = await signUp(server);
    const browser = new Browser(server);
    const login = json(await browser.login(user.email));
    const sessionId = (login['session'] as { id: string }).id;

    server.clock.advance(30_000);
    await browser.request('GET', '/v1/session');
    const unslid = await server.services.storage.findSessionById(sessionId);
    assert.equal(unslid?.lastSeenAt, unslid?.createdAt, 'no write within the first minute');

    server.clock.advance(31_000);
    await browser.request('GET', '/v1/session');
    const slid = await server.services.storage.findSessionById(sessionId);
    assert.equal(slid?.lastSeenAt, server.clock.now());
    assert.equal(slid?.idleExpiresAt, server.clock.now() + 30 * 60_000);

    server.clock.advance(30 * 60_000 + 1);
    const expired = await browser.request('GET', '/v1/session');
    assert.equal(expired.statusCode, 401);
    assert.equal(json(expired)['code'], 'session_expired');
    assert.match(setCookieHeaders(expired)[0] ?? '', /__Host-lk_session=;/);
  });

  it('expires at the absolute timeout however active it is', async () => {
    const user = await signUp(server);
    const browser = new Browser(server);
    await browser.login(user.email);
    for (let i = 0; i < 16; i++) {
      server.clock.advance(29 * 60_000);
      assert.equal((await browser.request('GET', '/v1/session')).statusCode, 200);
    }
    server.clock.advance(29 * 60_000);
    const expired = await browser.request('GET', '/v1/session');
    assert.equal(expired.statusCode, 401);
    assert.equal(json(expired)['code'], 'session_expired');
  });

  it('logs out: server record gone, replaying the old cookie gets 401', async () => {
    const user = await signUp(server);
    const browser = new Browser(server);
    await browser.login(user.email);
    const value = await browser.cookieValue();
    const logout = await browser.request('DELETE', '/v1/session');
    assert.equal(logout.statusCode, 204);
    assert.match(setCookieHeaders(logout)[0] ?? '', /__Host-lk_session=;/);
    const replay = await server.app.inject({
      method: 'GET',
      url: '/v1/session',
      headers: { cookie: `__Host-lk_session=${value}` },
    });
    assert.equal(replay.statusCode, 401);
  });

  it('leaves no cached cookie alive when a logout commits but its answer is lost', async () => {
    const user = await signUp(server);
    const browser = new Browser(server);
    await browser.login(user.email);
    const current = await browser.request('GET', '/v1/session'); // now in the session cache
    assert.equal(current.statusCode, 200);
    const sessionId = (json(current)['session'] as { id: string }).id;
    const storage = server.services.storage;
    const revokeSessions = storage.revokeSessions.bind(storage);
    // The store commits, then the process hears nothing back (a crash, a cut connection).
    storage.revokeSessions = async (...args) => {
      await revokeSessions(...args);
      throw new DependencyUnavailableError('database');
    };
    try {
      assert.equal((await browser.request('DELETE', '/v1/session')).statusCode, 503);
    } finally {
      storage.revokeSessions = revokeSessions;
    }
    // Revoked in the store, refused from the cache, and logged for every other instance.
    assert.equal((await browser.request('GET', '/v1/session')).statusCode, 401);
    const logged = await storage.listRevocations({ after: 0, limit: 1_000_000 });
    assert.ok(logged.some((event) => event.kind === 'session' && event.subjectId === sessionId));
  });

  it('answers unknown and malformed cookies with 401 and creates nothing', async () => {
    for (const value of ['A'.repeat(43), 'garbage', '']) {
      const response = await server.app.inject({
        method: 'GET',
        url: '/v1/me',
        headers: { cookie: `__Host-lk_session=${value}` },
      });
      assert.equal(response.statusCode, 401);
    }
  });

  it('gives wrong email and wrong password the same answer, and bans the same way', async () => {
    const user = await signUp(server);
    const browser = new Browser(server);
    const wrongPassword = await browser.login(user.email, 'not the password at all');
    const unknown = await browser.login('nobody-here@example.test');
    assert.equal(wrongPassword.statusCode, 401);
    assert.equal(wrongPassword.body, unknown.body);
    assert.equal(json(unknown)['code'], 'invalid_credentials');
  });

  it('refuses login from a foreign origin, cross-site fetch metadata, or a non-JSON body', async () => {
    const user = await signUp(server);
    const attempts: Array<{
      headers: Record<string, string>;
      payload: string | Record<string, unknown>;
    }> = [
      {
        headers: { origin: 'https://evil.example' },
        payload: { email: user.email, password: PASSWORD },
      },
      { headers: { origin: 'null' }, payload: { email: user.email, password: PASSWORD } },
      {
        headers: { 'sec-fetch-site': 'cross-site' },
        payload: { email: user.email, password: PASSWORD },
      },
      {
        headers: { 'content-type': 'text/plain' },
        payload: JSON.stringify({ email: user.email, password: PASSWORD }),
      },
      {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: `email=${encodeURIComponent(user.email)}&password=${encodeURIComponent(PASSWORD)}`,
      },
    ];
    for (const attempt of attempts) {
      const response = await server.app.inject({ method: 'POST', url: '/v1/session', ...attempt });
      assert.ok(
        [403, 415].includes(response.statusCode),
        `${JSON.stringify(attempt.headers)}: ${response.statusCode}`,
      );
      assert.equal(response.headers['set-cookie'], undefined);
    }
    const allowed = await server.app.inject({
      method: 'POST',
      url: '/v1/session',
      headers: { origin: 'https://app.example.test', 'sec-fetch-site': 'same-site' },
      payload: { email: user.email, password: PASSWORD },
    });
    assert.equal(allowed.statusCode, 200);
  });

  describe('CSRF on cookie-authenticated unsafe methods', () => {
    async function loggedIn() {
      const user = await signUp(server);
      const browser = new Browser(server);
      await browser.login(user.email);
      return browser;
    }

    const refused: Array<[string, Record<string, string>, boolean]> = [
      ['missing token', {}, false],
      ['wrong token', { 'x-csrf-token': 'A'.repeat(43) }, false],
      ['foreign Origin', { origin: 'https://evil.example' }, true],
      ['Origin: null', { origin: 'null' }, true],
      ['look-alike origin', { origin: 'https://app.example.test.evil.example' }, true],
      ['issuer look-alike', { origin: 'https://auth.example.test.evil.example' }, true],
      ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }, true],
    ];
    for (const [name, headers, withToken] of refused) {
      it(`refuses ${name} with 403 csrf_failed and keeps the session`, async () => {
        const browser = await loggedIn();
        const response = await browser.request('DELETE', '/v1/session', {
          headers,
          csrf: withToken,
        });
        assert.equal(response.statusCode, 403);
        assert.equal(json(response)['code'], 'csrf_failed');
        assert.equal((await browser.request('GET', '/v1/session')).statusCode, 200);
      });
    }

    it('accepts the right token from the issuer or an allowed origin', async () => {
      const browser = await loggedIn();
      const response = await browser.request('DELETE', '/v1/session', {
        headers: { origin: 'https://app.example.test', 'sec-fetch-site': 'same-site' },
      });
      assert.equal(response.statusCode, 204);
    });

    it('needs no CSRF token for Bearer requests, and a bad Bearer never falls back to the cookie', async () => {
      const user = await signUp(server);
      const pair = await passwordGrant(server, user.email, 'app');
      const bearer = await server.app.inject({
        method: 'DELETE',
        url: `/v1/sessions/${pair.session_id}`,
        headers: { authorization: `Bearer ${pair.access_token}` },
      });
      assert.equal(bearer.statusCode, 204);

      const browser = new Browser(server);
      await browser.login(user.email);
      const badBearer = await browser.request('GET', '/v1/me', {
        headers: { authorization: 'Bearer nope' },
      });
      assert.equal(badBearer.statusCode, 401);
      assert.equal(badBearer.headers['www-authenticate'], 'Bearer error="invalid_token"');
    });
  });

  it('lists cookie and hybrid sessions together; "log out everywhere" ends all but this one', async () => {
    const user = await signUp(server);
    const browser = new Browser(server);
    const login = json(await browser.login(user.email));
    const cookieSessionId = (login['session'] as { id: string }).id;
    const hybrid = await passwordGrant(server, user.email, 'app');
    const jwtOnly = await passwordGrant(server, user.email, 'api');

    const list = json(await browser.request('GET', '/v1/sessions'))['sessions'] as Array<{
      id: string;
      strategy: string;
      current: boolean;
      ip: string;
      userAgent: string | null;
    }>;
    assert.deepEqual(
      list.map((s) => [s.id, s.strategy, s.current]).sort(),
      [
        [cookieSessionId, 'session', true],
        [hybrid.session_id, 'hybrid', false],
      ].sort(),
    );

    const everywhere = await browser.request('DELETE', '/v1/sessions?except=current');
    assert.equal(everywhere.statusCode, 204);
    assert.equal((await browser.request('GET', '/v1/session')).statusCode, 200);
    assert.equal(
      (
        await server.app.inject({
          method: 'GET',
          url: '/v1/me',
          headers: { authorization: `Bearer ${hybrid.access_token}` },
        })
      ).statusCode,
      401,
    );
    // A stateless jwt-client token has no session: the user epoch ends it.
    assert.equal(
      (
        await server.app.inject({
          method: 'GET',
          url: '/v1/me',
          headers: { authorization: `Bearer ${jwtOnly.access_token}` },
        })
      ).statusCode,
      401,
    );

    const all = await browser.request('DELETE', '/v1/sessions');
    assert.equal(all.statusCode, 204);
    assert.match(setCookieHeaders(all)[0] ?? '', /__Host-lk_session=;/);
    assert.equal((await browser.request('GET', '/v1/session')).statusCode, 401);
  });

  it('ends the other sessions of a singleSession client on a new login', async () => {
    const user = await signUp(server);
    const first = new Browser(server);
    const second = new Browser(server);
    await first.request('POST', '/v1/session', {
      payload: { email: user.email, password: PASSWORD, clientId: 'kiosk' },
    });
    await second.request('POST', '/v1/session', {
      payload: { email: user.email, password: PASSWORD, clientId: 'kiosk' },
    });
    assert.equal((await first.request('GET', '/v1/session')).statusCode, 401);
    assert.equal((await second.request('GET', '/v1/session')).statusCode, 200);
  });
});
