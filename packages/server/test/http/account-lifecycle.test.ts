// Password change and ban end everything the old credentials opened, at once; admin session
// control; per-user session caps.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import {
  PASSWORD,
  getMe,
  json,
  passwordGrant,
  refresh,
  signUp,
  signUpAdmin,
  startTestServer,
  type TestServer,
} from '../support/harness.js';

const NEW_PASSWORD = 'violet submarine hums quietly 7';

function cookieOf(response: LightMyRequestResponse): string {
  const header = response.headers['set-cookie'];
  const first = Array.isArray(header) ? header[0] : header;
  const match = /^(lk_session=[^;]*)/.exec(first ?? '');
  if (!match?.[1]) throw new Error('no session cookie');
  return match[1];
}

async function cookieLogin(server: TestServer, email: string, password = PASSWORD) {
  const response = await server.app.inject({
    method: 'POST',
    url: '/v1/session',
    payload: { email, password },
  });
  assert.equal(response.statusCode, 200, response.body);
  return { cookie: cookieOf(response), csrfToken: json(response)['csrfToken'] as string };
}

describe('account lifecycle', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  describe('POST /v1/me/password', () => {
    it('ends every other session and older access token, and renews the current cookie', async () => {
      const user = await signUp(server);
      const current = await cookieLogin(server, user.email);
      const otherCookie = await cookieLogin(server, user.email);
      const hybrid = await passwordGrant(server, user.email, 'app');
      const jwtOnly = await passwordGrant(server, user.email, 'api');

      const response = await server.app.inject({
        method: 'POST',
        url: '/v1/me/password',
        headers: { cookie: current.cookie, 'x-csrf-token': current.csrfToken },
        payload: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD },
      });
      assert.equal(response.statusCode, 204, response.body);
      const renewed = cookieOf(response);
      assert.notEqual(renewed, current.cookie);

      const get = (cookie: string) =>
        server.app.inject({ method: 'GET', url: '/v1/session', headers: { cookie } });
      assert.equal((await get(renewed)).statusCode, 200, 'the current session continues');
      assert.equal((await get(current.cookie)).statusCode, 401, 'under a new secret only');
      assert.equal((await get(otherCookie.cookie)).statusCode, 401);
      assert.equal((await refresh(server, hybrid.refresh_token!)).statusCode, 400);
      assert.equal((await getMe(server, hybrid.access_token)).statusCode, 401);
      assert.equal((await getMe(server, jwtOnly.access_token)).statusCode, 401);

      // A login right after the change, within the same second, gets a working token.
      const fresh = await passwordGrant(server, user.email, 'api', NEW_PASSWORD);
      assert.equal((await getMe(server, fresh.access_token)).statusCode, 200);
      const events = await server.services.storage.listAudit({
        userId: user.id,
        type: 'password_changed',
        limit: 5,
      });
      assert.equal(events.length, 1);
    });

    it('keeps the Bearer caller’s own refresh family but not its older access token', async () => {
      const user = await signUp(server);
      const pair = await passwordGrant(server, user.email, 'app');
      const response = await server.app.inject({
        method: 'POST',
        url: '/v1/me/password',
        headers: { authorization: `Bearer ${pair.access_token}` },
        payload: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD },
      });
      assert.equal(response.statusCode, 204);
      assert.equal((await getMe(server, pair.access_token)).statusCode, 401);
      const next = await refresh(server, pair.refresh_token!);
      assert.equal(next.statusCode, 200);
      assert.equal((await getMe(server, json(next)['access_token'] as string)).statusCode, 200);
    });

    it('refuses a wrong current password or a weak new one and changes nothing', async () => {
      const user = await signUp(server);
      const pair = await passwordGrant(server, user.email, 'api');
      const attempt = (payload: Record<string, string>) =>
        server.app.inject({
          method: 'POST',
          url: '/v1/me/password',
          headers: { authorization: `Bearer ${pair.access_token}` },
          payload,
        });
      const wrong = await attempt({
        currentPassword: 'not my password, sorry',
        newPassword: NEW_PASSWORD,
      });
      assert.equal(wrong.statusCode, 401);
      assert.equal(json(wrong)['code'], 'invalid_credentials');
      const weak = await attempt({ currentPassword: PASSWORD, newPassword: 'short' });
      assert.equal(weak.statusCode, 400);
      assert.equal(json(weak)['code'], 'validation_failed');
      assert.equal((await getMe(server, pair.access_token)).statusCode, 200);
      await passwordGrant(server, user.email, 'api', PASSWORD);
    });

    it('requires the CSRF token when the cookie authenticates', async () => {
      const user = await signUp(server);
      const session = await cookieLogin(server, user.email);
      const response = await server.app.inject({
        method: 'POST',
        url: '/v1/me/password',
        headers: { cookie: session.cookie },
        payload: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD },
      });
      assert.equal(response.statusCode, 403);
      await passwordGrant(server, user.email, 'api', PASSWORD);
    });
  });

  describe('admin', () => {
    it('bans: every session and token ends at once, logins fail like wrong credentials', async () => {
      const admin = await signUpAdmin(server);
      const user = await signUp(server);
      const session = await cookieLogin(server, user.email);
      const pair = await passwordGrant(server, user.email, 'app');
      const jwtOnly = await passwordGrant(server, user.email, 'api');

      const ban = await server.app.inject({
        method: 'POST',
        url: `/v1/admin/users/${user.id}/ban`,
        headers: { authorization: `Bearer ${admin.token}` },
      });
      assert.equal(ban.statusCode, 204);
      assert.equal((await getMe(server, pair.access_token)).statusCode, 401);
      assert.equal((await getMe(server, jwtOnly.access_token)).statusCode, 401);
      assert.equal((await refresh(server, pair.refresh_token!)).statusCode, 400);
      const cookieCall = await server.app.inject({
        method: 'GET',
        url: '/v1/me',
        headers: { cookie: session.cookie },
      });
      assert.equal(cookieCall.statusCode, 401);

      const bannedLogin = await server.app.inject({
        method: 'POST',
        url: '/v1/session',
        payload: { email: user.email, password: PASSWORD },
      });
      const unknownLogin = await server.app.inject({
        method: 'POST',
        url: '/v1/session',
        payload: { email: 'nobody-at-all@example.test', password: PASSWORD },
      });
      assert.equal(bannedLogin.statusCode, 401);
      assert.equal(bannedLogin.body, unknownLogin.body);
      assert.equal(
        (
          await server.services.storage.listAudit({
            userId: user.id,
            type: 'user_banned',
            limit: 5,
          })
        ).length,
        1,
      );

      const unban = await server.app.inject({
        method: 'POST',
        url: `/v1/admin/users/${user.id}/unban`,
        headers: { authorization: `Bearer ${admin.token}` },
      });
      assert.equal(unban.statusCode, 204);
      const again = await passwordGrant(server, user.email, 'api');
      assert.equal((await getMe(server, again.access_token)).statusCode, 200);
      assert.equal(
        (await refresh(server, pair.refresh_token!)).statusCode,
        400,
        'old sessions stay ended',
      );
    });

    it('lists and ends any user’s sessions; unknown ones are 404', async () => {
      const admin = await signUpAdmin(server);
      const user = await signUp(server);
      const pair = await passwordGrant(server, user.email, 'app');
      const auth = { authorization: `Bearer ${admin.token}` };
      const list = await server.app.inject({
        method: 'GET',
        url: `/v1/admin/users/${user.id}/sessions`,
        headers: auth,
      });
      assert.equal(list.statusCode, 200);
      const sessions = json(list)['sessions'] as Array<{ id: string }>;
      assert.deepEqual(
        sessions.map((s) => s.id),
        [pair.session_id],
      );
      const end = await server.app.inject({
        method: 'DELETE',
        url: `/v1/admin/sessions/${pair.session_id}`,
        headers: auth,
      });
      assert.equal(end.statusCode, 204);
      assert.equal((await getMe(server, pair.access_token)).statusCode, 401);
      for (const url of [
        `/v1/admin/sessions/${pair.session_id}`,
        '/v1/admin/sessions/ses_unknown',
      ]) {
        assert.equal(
          (await server.app.inject({ method: 'DELETE', url, headers: auth })).statusCode,
          404,
        );
      }
      for (const method of ['GET', 'POST'] as const) {
        const url =
          method === 'GET'
            ? '/v1/admin/users/usr_unknown/sessions'
            : '/v1/admin/users/usr_unknown/ban';
        assert.equal((await server.app.inject({ method, url, headers: auth })).statusCode, 404);
      }
    });

    it('is forbidden to users without the admin role', async () => {
      const user = await signUp(server);
      const pair = await passwordGrant(server, user.email, 'api');
      const response = await server.app.inject({
        method: 'POST',
        url: `/v1/admin/users/${user.id}/ban`,
        headers: { authorization: `Bearer ${pair.access_token}` },
      });
      assert.equal(response.statusCode, 403);
      assert.equal((await getMe(server, pair.access_token)).statusCode, 200);
    });
  });
});

describe('session caps', () => {
  it('evicts the oldest session when maxPerUser is reached with evictOldest', async () => {
    const server = await startTestServer({ session: { maxPerUser: 2, onLimit: 'evictOldest' } });
    try {
      const user = await signUp(server);
      const first = await passwordGrant(server, user.email, 'app');
      server.clock.advance(1000);
      const second = await passwordGrant(server, user.email, 'app');
      server.clock.advance(1000);
      const third = await passwordGrant(server, user.email, 'app');
      assert.equal((await refresh(server, first.refresh_token!)).statusCode, 400);
      assert.equal((await refresh(server, second.refresh_token!)).statusCode, 200);
      assert.equal((await refresh(server, third.refresh_token!)).statusCode, 200);
    } finally {
      await server.close();
    }
  });

  it('refuses a new login when maxPerUser is reached with deny', async () => {
    const server = await startTestServer({ session: { maxPerUser: 1, onLimit: 'deny' } });
    try {
      const user = await signUp(server);
      const first = await passwordGrant(server, user.email, 'app');
      const denied = await server.app.inject({
        method: 'POST',
        url: '/v1/token',
        payload: {
          grant_type: 'password',
          username: user.email,
          password: PASSWORD,
          client_id: 'app',
        },
      });
      assert.equal(denied.statusCode, 400);
      assert.equal(json(denied)['error'], 'invalid_grant');
      const cookie = await server.app.inject({
        method: 'POST',
        url: '/v1/session',
        payload: { email: user.email, password: PASSWORD },
      });
      assert.equal(cookie.statusCode, 403);
      assert.equal((await refresh(server, first.refresh_token!)).statusCode, 200);
    } finally {
      await server.close();
    }
  });
});
