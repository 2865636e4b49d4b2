// Session management for the caller's own sessions: listing hybrid sessions (refresh families),
// ending one, ending the others, ending all, and never touching someone else's.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  PASSWORD,
  getMe,
  json,
  passwordGrant,
  refresh,
  signUp,
  startTestServer,
  type TestServer,
  type TokenPair,
} from '../support/harness.js';

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

interface ListedSession {
  id: string;
  clientId: string;
  strategy: string;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  ip: string | null;
  userAgent: string | null;
  current: boolean;
}

describe('session management', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ tokens: { refreshIdleTtl: '1d', refreshAbsoluteTtl: '30d' } });
  });
  after(() => server.close());

  async function login(email: string, userAgent: string): Promise<Required<TokenPair>> {
    const response = await server.app.inject({
      method: 'POST',
      url: '/v1/token',
      headers: { 'user-agent': userAgent },
      payload: { grant_type: 'password', username: email, password: PASSWORD, client_id: 'app' },
    });
    assert.equal(response.statusCode, 200, response.body);
    return json(response) as unknown as Required<TokenPair>;
  }

  /** A user with `count` hybrid sessions, logged in one second apart. */
  async function userWithSessions(count: number) {
    const user = await signUp(server);
    const pairs: Required<TokenPair>[] = [];
    for (let i = 0; i < count; i++) {
      pairs.push(await login(user.email, `device-${i}`));
      server.clock.advance(1_000);
    }
    return { user, pairs };
  }

  async function listSessions(accessToken: string): Promise<ListedSession[]> {
    const response = await server.app.inject({
      url: '/v1/sessions',
      headers: { authorization: `Bearer ${accessToken}` },
    });
    assert.equal(response.statusCode, 200, response.body);
    return (json(response) as { sessions: ListedSession[] }).sessions;
  }

  function deleteSession(accessToken: string, id: string) {
    return server.app.inject({
      method: 'DELETE',
      url: `/v1/sessions/${encodeURIComponent(id)}`,
      headers: { authorization: `Bearer ${accessToken}` },
    });
  }

  function deleteSessions(accessToken: string, query = '') {
    return server.app.inject({
      method: 'DELETE',
      url: `/v1/sessions${query}`,
      headers: { authorization: `Bearer ${accessToken}` },
    });
  }

  /** Whether a session still works: its refresh family refreshes and its access token is valid. */
  async function isAlive(pair: Required<TokenPair>): Promise<{ access: number; refresh: number }> {
    return {
      access: (await getMe(server, pair.access_token)).statusCode,
      refresh: (await refresh(server, pair.refresh_token)).statusCode,
    };
  }

  async function revokedAudit(userId: string): Promise<string[]> {
    const events = await server.services.storage.listAudit({
      userId,
      type: 'session_revoked',
      limit: 100,
    });
    return events.map((e) => e.sessionId ?? '').sort();
  }

  describe('GET /v1/sessions', () => {
    it('lists the caller’s sessions with every field, current for the calling token', async () => {
      const { user, pairs } = await userWithSessions(2);
      const [first, second] = pairs as [Required<TokenPair>, Required<TokenPair>];
      // Another user's session must not appear.
      const other = await signUp(server);
      await passwordGrant(server, other.email);

      const sessions = await listSessions(first.access_token);
      assert.deepEqual(
        sessions.map((s) => s.id).sort(),
        [first.session_id, second.session_id].sort(),
      );
      for (const session of sessions) {
        assert.deepEqual(Object.keys(session).sort(), [
          'clientId',
          'createdAt',
          'current',
          'expiresAt',
          'id',
          'ip',
          'lastSeenAt',
          'strategy',
          'userAgent',
        ]);
        assert.equal(session.clientId, 'app');
        assert.equal(session.strategy, 'hybrid');
        for (const field of ['createdAt', 'lastSeenAt', 'expiresAt'] as const) {
          assert.match(session[field], ISO_UTC);
        }
        assert.equal(session.ip, '127.0.0.1');
        assert.equal(session.current, session.id === first.session_id);
      }
      const byId = new Map(sessions.map((s) => [s.id, s]));
      const firstListed = byId.get(first.session_id)!;
      const secondListed = byId.get(second.session_id)!;
      assert.equal(firstListed.userAgent, 'device-0');
      assert.equal(secondListed.userAgent, 'device-1');
      assert.equal(Date.parse(secondListed.createdAt) - Date.parse(firstListed.createdAt), 1_000);
      // The idle limit (1 d) comes before the absolute one (30 d).
      assert.equal(
        Date.parse(firstListed.expiresAt) - Date.parse(firstListed.createdAt),
        86_400_000,
      );
      assert.doesNotMatch(JSON.stringify(sessions), /lkr_/);

      // From the other session's token, that one is current.
      const fromSecond = await listSessions(second.access_token);
      assert.deepEqual(
        fromSecond.filter((s) => s.current).map((s) => s.id),
        [second.session_id],
      );
      // A jwt-client token has no session: none is current, and it adds none.
      const jwt = await passwordGrant(server, user.email, 'api');
      const fromJwt = await listSessions(jwt.access_token);
      assert.equal(fromJwt.length, 2);
      assert.ok(fromJwt.every((s) => !s.current));
    });

    it('shows lastSeenAt and expiresAt moving with a refresh', async () => {
      const { pairs } = await userWithSessions(1);
      const pair = pairs[0]!;
      server.clock.advance(60_000);
      const refreshed = json(await refresh(server, pair.refresh_token));
      const [listed] = await listSessions(refreshed['access_token'] as string);
      assert.equal(listed?.lastSeenAt, new Date(server.clock.now()).toISOString());
      assert.equal(listed?.expiresAt, new Date(server.clock.now() + 86_400_000).toISOString());
    });

    it('needs authentication', async () => {
      const response = await server.app.inject({ url: '/v1/sessions' });
      assert.equal(response.statusCode, 401);
      assert.equal(json(response)['code'], 'unauthenticated');
    });
  });

  describe('DELETE /v1/sessions/{id}', () => {
    it('ends that session at once: its refresh token and access tokens stop working', async () => {
      const { user, pairs } = await userWithSessions(2);
      const [current, target] = pairs as [Required<TokenPair>, Required<TokenPair>];
      assert.equal((await getMe(server, target.access_token)).statusCode, 200);

      const response = await deleteSession(current.access_token, target.session_id);
      assert.equal(response.statusCode, 204);
      assert.equal(response.body, '');

      const me = await getMe(server, target.access_token);
      assert.equal(me.statusCode, 401);
      assert.equal(me.headers['www-authenticate'], 'Bearer error="invalid_token"');
      const refused = await refresh(server, target.refresh_token);
      assert.equal(refused.statusCode, 400);
      assert.equal(json(refused)['error'], 'invalid_grant');

      // The caller's own session is untouched.
      assert.deepEqual(await isAlive(current), { access: 200, refresh: 200 });
      assert.deepEqual(
        (await listSessions(current.access_token)).map((s) => s.id),
        [current.session_id],
      );
      assert.deepEqual(await revokedAudit(user.id), [target.session_id]);
      const [event] = await server.services.storage.listAudit({
        userId: user.id,
        type: 'session_revoked',
        limit: 1,
      });
      assert.equal(event?.detail['reason'], 'user_revoked');
    });

    it('lets the caller end its own current session', async () => {
      const { pairs } = await userWithSessions(1);
      const pair = pairs[0]!;
      assert.equal((await deleteSession(pair.access_token, pair.session_id)).statusCode, 204);
      assert.deepEqual(await isAlive(pair), { access: 401, refresh: 400 });
    });

    it('answers 404 for someone else’s session and changes nothing', async () => {
      const mine = await userWithSessions(1);
      const theirs = await userWithSessions(1);
      const caller = mine.pairs[0]!;
      const victim = theirs.pairs[0]!;

      const response = await deleteSession(caller.access_token, victim.session_id);
      assert.equal(response.statusCode, 404);
      assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
      assert.equal(json(response)['code'], 'not_found');

      assert.equal((await getMe(server, victim.access_token)).statusCode, 200);
      assert.deepEqual(await revokedAudit(theirs.user.id), []);
      assert.deepEqual(await revokedAudit(mine.user.id), []);
      assert.equal((await refresh(server, victim.refresh_token)).statusCode, 200);
      assert.equal((await getMe(server, caller.access_token)).statusCode, 200);
    });

    it('answers an unknown or already ended session like someone else’s: 404', async () => {
      const { user, pairs } = await userWithSessions(2);
      const [caller, ended] = pairs as [Required<TokenPair>, Required<TokenPair>];
      assert.equal((await deleteSession(caller.access_token, ended.session_id)).statusCode, 204);
      const unknownIds = ['ses_0000000000000000000000000000', 'x', ended.session_id];
      for (const id of unknownIds) {
        const response = await deleteSession(caller.access_token, id);
        assert.equal(response.statusCode, 404, id);
        assert.equal(json(response)['code'], 'not_found');
      }
      // One revocation, one audit event: the repeats changed nothing.
      assert.deepEqual(await revokedAudit(user.id), [ended.session_id]);
      assert.deepEqual(await isAlive(caller), { access: 200, refresh: 200 });
    });
  });

  describe('DELETE /v1/sessions', () => {
    it('with except=current ends every other session and keeps the current one', async () => {
      const { user, pairs } = await userWithSessions(3);
      const [current, ...others] = pairs as [Required<TokenPair>, ...Required<TokenPair>[]];
      const jwt = await passwordGrant(server, user.email, 'api');
      const bystander = await userWithSessions(1);

      const response = await deleteSessions(current.access_token, '?except=current');
      assert.equal(response.statusCode, 204);

      for (const other of others) {
        assert.deepEqual(await isAlive(other), { access: 401, refresh: 400 });
      }
      // "Log out everywhere" moves the user epoch, which also ends stateless jwt tokens and the
      // caller's own access token; the current session survives and refreshes a new one.
      assert.equal((await getMe(server, jwt.access_token)).statusCode, 401);
      assert.equal((await getMe(server, current.access_token)).statusCode, 401);
      const renewed = await refresh(server, current.refresh_token);
      assert.equal(renewed.statusCode, 200);
      const renewedAccess = json(renewed)['access_token'] as string;
      assert.equal((await getMe(server, renewedAccess)).statusCode, 200);
      const left = await listSessions(renewedAccess);
      assert.deepEqual(
        left.map((s) => [s.id, s.current]),
        [[current.session_id, true]],
      );
      assert.deepEqual(await revokedAudit(user.id), others.map((o) => o.session_id).sort());
      assert.deepEqual(await isAlive(bystander.pairs[0]!), { access: 200, refresh: 200 });
    });

    it('without except ends every session, the current one included', async () => {
      const { user, pairs } = await userWithSessions(2);
      const bystander = await userWithSessions(1);
      const response = await deleteSessions(pairs[0]!.access_token);
      assert.equal(response.statusCode, 204);
      for (const pair of pairs)
        assert.deepEqual(await isAlive(pair), { access: 401, refresh: 400 });
      assert.deepEqual(await revokedAudit(user.id), pairs.map((p) => p.session_id).sort());
      assert.deepEqual(await isAlive(bystander.pairs[0]!), { access: 200, refresh: 200 });
    });

    it('refuses an except other than current', async () => {
      const { user, pairs } = await userWithSessions(2);
      for (const query of ['?except=all', '?except=', '?other=1']) {
        const response = await deleteSessions(pairs[0]!.access_token, query);
        assert.equal(response.statusCode, 400, query);
        assert.equal(json(response)['code'], 'validation_failed');
      }
      assert.deepEqual(await revokedAudit(user.id), []);
      for (const pair of pairs)
        assert.equal((await getMe(server, pair.access_token)).statusCode, 200);
    });
  });
});
