// "This wasn't me": POST /v1/me/sessions/{id}/report ends that session and all others but the
// caller's, records the report, and makes the next login change the password before anything else.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PASSWORD, json, signUp, startTestServer, type TestServer } from '../support/harness.js';
import {
  cookieLogin,
  device,
  eventsOf,
  refreshFrom,
  suspicious,
  tokenLogin,
  withBearer,
  withCookie,
  type CookieLogin,
} from '../support/risk.js';

const HOME = device('192.0.2.10');
const NEW_PASSWORD = 'a brand new passphrase for 2026';

interface TokenBody {
  access_token: string;
  refresh_token: string;
  session_id: string;
  password_change_required?: boolean;
}

void describe('reporting a session ("this wasn\'t me")', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  async function tokens(email: string, clientId = 'app'): Promise<TokenBody> {
    const response = await tokenLogin(server, email, HOME, clientId);
    assert.equal(response.statusCode, 200, response.body);
    return json(response) as unknown as TokenBody;
  }

  function report(login: CookieLogin, sessionId: string, csrf = true) {
    return withCookie(
      server,
      csrf ? login : { ...login, csrfToken: 'wrong' },
      HOME,
      'POST',
      `/v1/me/sessions/${encodeURIComponent(sessionId)}/report`,
    );
  }

  const sessionIdOf = (login: CookieLogin) =>
    (json(login.response)['session'] as { id: string }).id;

  void it('ends the reported session and all others but the current one, and records it', async () => {
    const user = await signUp(server);
    const reporter = await cookieLogin(server, user.email, HOME);
    const intruder = await tokens(user.email);
    const other = await tokens(user.email);
    const stateless = await tokens(user.email, 'api');

    const response = await report(reporter, intruder.session_id);
    assert.equal(response.statusCode, 204, response.body);

    assert.equal((await refreshFrom(server, intruder.refresh_token, HOME)).statusCode, 400);
    assert.equal((await refreshFrom(server, other.refresh_token, HOME)).statusCode, 400);
    // Stateless tokens have no session: the epoch moved, as for "log out everywhere".
    assert.equal((await withBearer(server, stateless.access_token)).statusCode, 401);
    // The reporter carries on, unrestricted: the password change is for the next login.
    const listed = await withCookie(server, reporter, HOME, 'GET', '/v1/sessions');
    assert.equal(listed.statusCode, 200, listed.body);
    assert.deepEqual(
      (json(listed)['sessions'] as Array<{ id: string; current: boolean }>).map((s) => [
        s.id,
        s.current,
      ]),
      [[sessionIdOf(reporter), true]],
    );

    const events = await suspicious(server, user.id);
    assert.equal(events.length, 1);
    assert.equal(events[0]?.sessionId, intruder.session_id);
    assert.equal(events[0]?.clientId, 'app');
    assert.deepEqual(events[0]?.detail, {
      signal: 'user_report',
      action: 'revoke',
      reportedBy: sessionIdOf(reporter),
      sessionsEnded: 2,
      passwordChangeRequired: true,
    });
    const revoked = await eventsOf(server, user.id, 'session_revoked');
    assert.deepEqual(
      revoked.map((e) => [e.sessionId, e.detail['reason']]).sort(),
      [
        [intruder.session_id, 'reported'],
        [other.session_id, 'reported'],
      ].sort(),
    );
    assert.equal(
      (await server.services.storage.findUserById(user.id))?.passwordChangeRequired,
      true,
    );
  });

  void it("answers 404 for an unknown session or someone else's, 400 for the current one", async () => {
    const user = await signUp(server);
    const stranger = await signUp(server);
    const theirs = await tokens(stranger.email);
    const reporter = await cookieLogin(server, user.email, HOME);
    for (const id of [theirs.session_id, 'ses_unknown']) {
      const response = await report(reporter, id);
      assert.equal(response.statusCode, 404, response.body);
      assert.equal(json(response)['code'], 'not_found');
    }
    const own = await report(reporter, sessionIdOf(reporter));
    assert.equal(own.statusCode, 400);
    assert.equal(json(own)['code'], 'validation_failed');
    // Nothing happened to anyone.
    assert.equal((await refreshFrom(server, theirs.refresh_token, HOME)).statusCode, 200);
    assert.equal(
      (await server.services.storage.findUserById(user.id))?.passwordChangeRequired,
      false,
    );
    assert.deepEqual(await suspicious(server, user.id), []);
  });

  void it('needs the CSRF token with a cookie, and a caller', async () => {
    const user = await signUp(server);
    const reporter = await cookieLogin(server, user.email, HOME);
    const target = await tokens(user.email);
    const forged = await report(reporter, target.session_id, false);
    assert.equal(forged.statusCode, 403);
    assert.equal(json(forged)['code'], 'csrf_failed');
    const anonymous = await server.app.inject({
      method: 'POST',
      url: `/v1/me/sessions/${target.session_id}/report`,
    });
    assert.equal(anonymous.statusCode, 401);
    assert.equal((await refreshFrom(server, target.refresh_token, HOME)).statusCode, 200);
  });

  void it("reported with a Bearer token: the caller's own family survives and refreshes", async () => {
    const user = await signUp(server);
    const reporter = await tokens(user.email);
    const intruder = await tokens(user.email);
    const response = await withBearer(
      server,
      reporter.access_token,
      'POST',
      `/v1/me/sessions/${intruder.session_id}/report`,
    );
    assert.equal(response.statusCode, 204, response.body);
    server.clock.advance(1_000);
    const refreshed = await refreshFrom(server, reporter.refresh_token, HOME);
    assert.equal(refreshed.statusCode, 200, refreshed.body);
    const body = json(refreshed) as unknown as TokenBody;
    assert.equal(body.password_change_required, undefined);
    assert.equal(
      (await withBearer(server, body.access_token, 'GET', '/v1/sessions')).statusCode,
      200,
    );
  });

  void it('makes the next login on either endpoint change the password before anything else', async () => {
    const user = await signUp(server);
    const reporter = await cookieLogin(server, user.email, HOME);
    const intruder = await tokens(user.email);
    assert.equal((await report(reporter, intruder.session_id)).statusCode, 204);
    server.clock.advance(1_000);

    // Cookie login: it succeeds, and says so.
    const browser = await cookieLogin(server, user.email, HOME);
    assert.equal(browser.response.statusCode, 200);
    assert.equal(json(browser.response)['passwordChangeRequired'], true);
    const me = await withCookie(server, browser, HOME);
    assert.equal(me.statusCode, 200);
    assert.equal((json(me)['auth'] as Record<string, unknown>)['passwordChangeRequired'], true);
    const current = await withCookie(server, browser, HOME, 'GET', '/v1/session');
    assert.equal(current.statusCode, 200);
    assert.equal(json(current)['passwordChangeRequired'], true);
    for (const [method, url] of [
      ['GET', '/v1/sessions'],
      ['GET', '/v1/me/activity'],
      ['DELETE', `/v1/sessions/${sessionIdOf(reporter)}`],
      ['DELETE', '/v1/sessions?except=current'],
      ['POST', `/v1/me/sessions/${sessionIdOf(reporter)}/report`],
    ] as const) {
      const refused = await withCookie(server, browser, HOME, method, url);
      assert.equal(refused.statusCode, 403, `${method} ${url}: ${refused.body}`);
      assert.equal(json(refused)['code'], 'forbidden');
      assert.equal(json(refused)['detail'], 'password change required');
    }

    // Token logins: hybrid (and its refreshes) and stateless alike.
    const app = await tokens(user.email);
    assert.equal(app.password_change_required, true);
    assert.equal(
      (await withBearer(server, app.access_token, 'GET', '/v1/sessions')).statusCode,
      403,
    );
    const refreshed = json(
      await refreshFrom(server, app.refresh_token, HOME),
    ) as unknown as TokenBody;
    assert.equal(refreshed.password_change_required, true);
    assert.equal(
      (await withBearer(server, refreshed.access_token, 'GET', '/v1/sessions')).statusCode,
      403,
    );
    const api = await tokens(user.email, 'api');
    assert.equal(api.password_change_required, true);
    assert.equal(
      (await withBearer(server, api.access_token, 'GET', '/v1/sessions')).statusCode,
      403,
    );
    assert.equal((await withBearer(server, api.access_token)).statusCode, 200);

    // The reporter's session, older than the report, is not limited.
    assert.equal((await withCookie(server, reporter, HOME, 'GET', '/v1/sessions')).statusCode, 200);

    // Changing the password lifts it, for this session and for later logins.
    const changed = await withCookie(server, browser, HOME, 'POST', '/v1/me/password', {
      currentPassword: PASSWORD,
      newPassword: NEW_PASSWORD,
    });
    assert.equal(changed.statusCode, 204, changed.body);
    const renewed = [changed.headers['set-cookie']].flat()[0]!.split(';')[0]!;
    const afterChange = { cookie: renewed, csrfToken: browser.csrfToken };
    const listed = await withCookie(server, afterChange, HOME, 'GET', '/v1/sessions');
    assert.equal(listed.statusCode, 200, listed.body);
    const meAfter = json(await withCookie(server, afterChange, HOME));
    assert.equal((meAfter['auth'] as Record<string, unknown>)['passwordChangeRequired'], undefined);
    assert.equal(
      (await server.services.storage.findUserById(user.id))?.passwordChangeRequired,
      false,
    );
    const next = await server.app.inject({
      method: 'POST',
      url: '/v1/token',
      remoteAddress: HOME.ip,
      headers: { 'user-agent': HOME.userAgent },
      payload: {
        grant_type: 'password',
        username: user.email,
        password: NEW_PASSWORD,
        client_id: 'app',
      },
    });
    assert.equal(next.statusCode, 200, next.body);
    assert.equal(json(next)['password_change_required'], undefined);
  });

  void it('a later report flags again, and sessions from the earlier flag stay free', async () => {
    const user = await signUp(server);
    const reporter = await cookieLogin(server, user.email, HOME);
    assert.equal((await report(reporter, (await tokens(user.email)).session_id)).statusCode, 204);
    const limited = await cookieLogin(server, user.email, HOME);
    assert.equal(json(limited.response)['passwordChangeRequired'], true);
    const changed = await withCookie(server, limited, HOME, 'POST', '/v1/me/password', {
      currentPassword: PASSWORD,
      newPassword: NEW_PASSWORD,
    });
    assert.equal(changed.statusCode, 204, changed.body);
    const cookie = [changed.headers['set-cookie']].flat()[0]!.split(';')[0]!;
    // The renewed cookie has its own CSRF token.
    const current = await withCookie(server, { cookie, csrfToken: '' }, HOME, 'GET', '/v1/session');
    const renewed = { cookie, csrfToken: json(current)['csrfToken'] as string };
    // The once-limited session now reports another one: it is the caller, so it stays free.
    const intruder = json(
      await server.app.inject({
        method: 'POST',
        url: '/v1/token',
        payload: {
          grant_type: 'password',
          username: user.email,
          password: NEW_PASSWORD,
          client_id: 'app',
        },
      }),
    ) as unknown as TokenBody;
    assert.equal(
      (
        await withCookie(
          server,
          renewed,
          HOME,
          'POST',
          `/v1/me/sessions/${intruder.session_id}/report`,
        )
      ).statusCode,
      204,
    );
    assert.equal((await withCookie(server, renewed, HOME, 'GET', '/v1/sessions')).statusCode, 200);
  });
});
