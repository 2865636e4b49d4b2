// Risk signals end to end: each fires with its evidence, each action does what it says (audit
// records only; revoke ends the session or family; reauthenticate ends it and answers
// reauthentication_required), unaffected requests pass, and signals can be turned off.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuditEvent } from '../../src/core/model.js';
import { hashSecret } from '../../src/core/random.js';
import { PASSWORD, json, signUp, startTestServer, type TestServer } from '../support/harness.js';
import {
  AGENTS,
  cookieLogin,
  device,
  eventsOf,
  refreshFrom,
  suspicious,
  tokenLogin,
  withBearer,
  withCookie,
} from '../support/risk.js';

const HOME = device('192.0.2.10');
const HOME_OTHER_ADDRESS = device('192.0.2.99', AGENTS.chromeWindowsNext);
const OFFICE = device('198.51.100.10');

interface TokenBody {
  access_token: string;
  refresh_token: string;
  session_id: string;
}

async function loginTokens(server: TestServer, email: string, from = HOME): Promise<TokenBody> {
  const response = await tokenLogin(server, email, from);
  assert.equal(response.statusCode, 200, response.body);
  return json(response) as unknown as TokenBody;
}

/** Evidence never carries a credential or the password. */
function assertNoSecrets(events: readonly AuditEvent[], secrets: readonly string[]): void {
  const text = JSON.stringify(events);
  for (const secret of [PASSWORD, ...secrets]) assert.equal(text.includes(secret), false);
}

void describe('risk checks on refresh, default actions', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  void it('lets an unchanged context through and records nothing', async () => {
    const user = await signUp(server);
    let tokens = await loginTokens(server, user.email);
    // Another address in the same /24 and a newer version of the same browser are no change.
    for (const from of [HOME, HOME_OTHER_ADDRESS, HOME]) {
      server.clock.advance(60_000);
      const response = await refreshFrom(server, tokens.refresh_token, from);
      assert.equal(response.statusCode, 200, response.body);
      tokens = json(response) as unknown as TokenBody;
    }
    assert.deepEqual(await suspicious(server, user.id), []);
  });

  void it('user-agent family change: reauthenticate ends the family before it rotates', async () => {
    const user = await signUp(server);
    const tokens = await loginTokens(server, user.email);
    const firefox = device(HOME.ip, AGENTS.firefoxLinux);

    const refused = await refreshFrom(server, tokens.refresh_token, firefox);
    assert.equal(refused.statusCode, 400, refused.body);
    assert.deepEqual(json(refused), {
      error: 'invalid_grant',
      error_description: 'reauthentication_required',
    });

    const events = await suspicious(server, user.id);
    assert.equal(events.length, 1);
    assert.equal(events[0]?.sessionId, tokens.session_id);
    assert.equal(events[0]?.userAgent, AGENTS.firefoxLinux);
    assert.deepEqual(events[0]?.detail, {
      signal: 'user_agent_changed',
      action: 'reauthenticate',
      previousBrowser: 'Chrome',
      previousOs: 'Windows',
      browser: 'Firefox',
      os: 'Linux',
    });
    assertNoSecrets(events, [tokens.refresh_token, tokens.access_token]);

    // Ended, not rotated: no refresh was recorded, and the family is gone for the old device too.
    assert.deepEqual(await eventsOf(server, user.id, 'token_refreshed'), []);
    const session = await server.services.storage.findSessionById(tokens.session_id);
    assert.notEqual(session?.revokedAt, null);
    const revoked = await eventsOf(server, user.id, 'session_revoked');
    assert.deepEqual(revoked[0]?.detail, { reason: 'suspicious_activity' });
    assert.equal(
      await server.services.storage.findRefreshToken(hashSecret(tokens.refresh_token)),
      null,
    );
    const again = await refreshFrom(server, tokens.refresh_token, HOME);
    assert.deepEqual(json(again), { error: 'invalid_grant' });
    assert.equal((await withBearer(server, tokens.access_token)).statusCode, 401);
  });

  void it('network change: audit records it once and remembers the new network', async () => {
    const user = await signUp(server);
    let tokens = await loginTokens(server, user.email);
    for (let i = 0; i < 3; i++) {
      server.clock.advance(60_000);
      const response = await refreshFrom(server, tokens.refresh_token, OFFICE);
      assert.equal(response.statusCode, 200, response.body);
      tokens = json(response) as unknown as TokenBody;
    }
    const events = await suspicious(server, user.id);
    assert.equal(events.length, 1, JSON.stringify(events));
    assert.deepEqual(events[0]?.detail, {
      signal: 'network_changed',
      action: 'audit',
      previousNetwork: '192.0.2.0/24',
      network: '198.51.100.0/24',
    });
    assert.equal(events[0]?.ip, OFFICE.ip);
    const listed = json(await withBearer(server, tokens.access_token, 'GET', '/v1/sessions'));
    assert.equal((listed['sessions'] as Array<{ ip: string }>)[0]?.ip, OFFICE.ip);
    // Back home is a change again, reported again.
    server.clock.advance(60_000);
    assert.equal((await refreshFrom(server, tokens.refresh_token, HOME)).statusCode, 200);
    assert.equal((await suspicious(server, user.id)).length, 2);
  });

  void it('refresh-token reuse: suspicious_activity beside the revocation of the family', async () => {
    const user = await signUp(server);
    const first = await loginTokens(server, user.email);
    const rotated = json(
      await refreshFrom(server, first.refresh_token, HOME),
    ) as unknown as TokenBody;
    server.clock.advance(11_000); // past the 10 s grace
    const reused = await refreshFrom(server, first.refresh_token, OFFICE);
    assert.deepEqual(json(reused), { error: 'invalid_grant' });
    assert.equal((await eventsOf(server, user.id, 'refresh_token_reused')).length, 1);
    const events = await suspicious(server, user.id);
    assert.equal(events.length, 1);
    assert.equal(events[0]?.sessionId, first.session_id);
    assert.deepEqual(events[0]?.detail, {
      signal: 'refresh_token_reused',
      action: 'revoke',
      previousNetwork: '192.0.2.0/24',
      network: '198.51.100.0/24',
      rotatedSecondsAgo: 11,
    });
    assertNoSecrets(events, [first.refresh_token, rotated.refresh_token]);
    assert.equal((await refreshFrom(server, rotated.refresh_token, HOME)).statusCode, 400);
  });
});

void describe('risk checks on cookie sessions, default actions', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  void it('passes unchanged requests, and reports a network change once', async () => {
    const user = await signUp(server);
    const login = await cookieLogin(server, user.email, HOME);
    assert.equal(login.response.statusCode, 200, login.response.body);
    for (const from of [HOME, HOME_OTHER_ADDRESS, OFFICE, OFFICE, OFFICE]) {
      const response = await withCookie(server, login, from);
      assert.equal(response.statusCode, 200, response.body);
    }
    const events = await suspicious(server, user.id);
    assert.deepEqual(
      events.map((e) => e.detail['signal']),
      ['network_changed'],
    );
    assert.equal(events[0]?.sessionId, (json(login.response)['session'] as { id: string }).id);
  });

  void it('user-agent change: 401 reauthentication_required, the cookie cleared, the session ended', async () => {
    const user = await signUp(server);
    const login = await cookieLogin(server, user.email, HOME);
    const sessionId = (json(login.response)['session'] as { id: string }).id;
    const stolen = await withCookie(server, login, device(HOME.ip, AGENTS.curl));
    assert.equal(stolen.statusCode, 401, stolen.body);
    assert.equal(json(stolen)['code'], 'reauthentication_required');
    assert.match(String(stolen.headers['content-type']), /^application\/problem\+json/);
    assert.match(String([stolen.headers['set-cookie']].flat()[0]), /^lk_session=;/);
    const events = await suspicious(server, user.id);
    assert.deepEqual(events[0]?.detail, {
      signal: 'user_agent_changed',
      action: 'reauthenticate',
      previousBrowser: 'Chrome',
      previousOs: 'Windows',
      browser: 'Other',
      os: 'Other',
    });
    assertNoSecrets(events, [login.cookie.split('=')[1]!, login.csrfToken]);
    // The real browser has lost the session too: it must log in again.
    const owner = await withCookie(server, login, HOME);
    assert.equal(owner.statusCode, 401);
    assert.equal(json(owner)['code'], 'unauthenticated');
    assert.notEqual((await server.services.storage.findSessionById(sessionId))?.revokedAt, null);
  });
});

void describe('risk actions are configurable', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      risk: { actions: { networkChanged: 'revoke', userAgentChanged: 'audit' } },
    });
  });
  after(() => server.close());

  void it('revoke ends the family: the refresh fails now and after', async () => {
    const user = await signUp(server);
    const tokens = await loginTokens(server, user.email);
    const refused = await refreshFrom(server, tokens.refresh_token, OFFICE);
    assert.deepEqual(json(refused), { error: 'invalid_grant' });
    assert.equal((await refreshFrom(server, tokens.refresh_token, HOME)).statusCode, 400);
    const events = await suspicious(server, user.id);
    assert.deepEqual(
      events.map((e) => [e.detail['signal'], e.detail['action']]),
      [['network_changed', 'revoke']],
    );
    assert.notEqual(
      (await server.services.storage.findSessionById(tokens.session_id))?.revokedAt,
      null,
    );
  });

  void it('revoke on a cookie session answers 401 unauthenticated', async () => {
    const user = await signUp(server);
    const login = await cookieLogin(server, user.email, HOME);
    const response = await withCookie(server, login, OFFICE);
    assert.equal(response.statusCode, 401);
    assert.equal(json(response)['code'], 'unauthenticated');
  });

  void it('audit only records, once per change', async () => {
    const user = await signUp(server);
    let tokens = await loginTokens(server, user.email);
    const firefox = device(HOME.ip, AGENTS.firefoxLinux);
    for (let i = 0; i < 2; i++) {
      const response = await refreshFrom(server, tokens.refresh_token, firefox);
      assert.equal(response.statusCode, 200, response.body);
      tokens = json(response) as unknown as TokenBody;
    }
    const events = await suspicious(server, user.id);
    assert.deepEqual(
      events.map((e) => [e.detail['signal'], e.detail['action']]),
      [['user_agent_changed', 'audit']],
    );
  });
});

void describe('risk signals turned off', () => {
  let off: TestServer;
  let disabled: TestServer;
  before(async () => {
    off = await startTestServer({
      risk: {
        actions: {
          userAgentChanged: 'off',
          networkChanged: 'off',
          impossibleTravel: 'off',
          newDevice: 'off',
          refreshTokenReused: 'off',
        },
      },
    });
    disabled = await startTestServer({ risk: { enabled: false } });
  });
  after(async () => {
    await off.close();
    await disabled.close();
  });

  for (const name of ['every action "off"', 'risk.enabled false']) {
    void it(`${name}: changes pass and nothing is recorded`, async () => {
      const server = name === 'risk.enabled false' ? disabled : off;
      const user = await signUp(server);
      await loginTokens(server, user.email);
      const tokens = await loginTokens(server, user.email, device(OFFICE.ip, AGENTS.safariIphone));
      const response = await refreshFrom(
        server,
        tokens.refresh_token,
        device(HOME.ip, AGENTS.curl),
      );
      assert.equal(response.statusCode, 200, response.body);
      const login = await cookieLogin(server, user.email, HOME);
      assert.equal(
        (await withCookie(server, login, device(OFFICE.ip, AGENTS.curl))).statusCode,
        200,
      );

      // Reuse still ends the family (API.md); only the suspicious_activity event is left out.
      const old = await loginTokens(server, user.email);
      await refreshFrom(server, old.refresh_token, HOME);
      server.clock.advance(11_000);
      assert.equal((await refreshFrom(server, old.refresh_token, HOME)).statusCode, 400);
      assert.equal((await eventsOf(server, user.id, 'refresh_token_reused')).length, 1);
      assert.deepEqual(await suspicious(server, user.id), []);
    });
  }
});

void describe('new device at login', () => {
  let server: TestServer;
  let strict: TestServer;
  before(async () => {
    server = await startTestServer();
    strict = await startTestServer({ risk: { actions: { newDevice: 'revoke' } } });
  });
  after(async () => {
    await server.close();
    await strict.close();
  });

  void it('records a device never seen for the user on both login endpoints (audit)', async () => {
    const user = await signUp(server);
    // The first login has nothing to compare with; the same device again is known.
    await loginTokens(server, user.email);
    assert.equal(
      (await cookieLogin(server, user.email, HOME_OTHER_ADDRESS)).response.statusCode,
      200,
    );
    assert.deepEqual(await suspicious(server, user.id), []);

    const laptop = device(HOME.ip, AGENTS.firefoxLinux);
    assert.equal((await tokenLogin(server, user.email, laptop)).statusCode, 200);
    const phone = device('203.0.113.5', AGENTS.safariIphone);
    assert.equal((await cookieLogin(server, user.email, phone)).response.statusCode, 200);
    // Known from now on.
    assert.equal((await tokenLogin(server, user.email, laptop)).statusCode, 200);

    const events = await suspicious(server, user.id);
    assert.deepEqual(
      events.map((e) => [e.detail, e.clientId, e.sessionId]),
      [
        [
          {
            signal: 'new_device',
            action: 'audit',
            browser: 'Firefox',
            os: 'Linux',
            network: '192.0.2.0/24',
          },
          'app',
          null,
        ],
        [
          {
            signal: 'new_device',
            action: 'audit',
            browser: 'Safari',
            os: 'iOS',
            network: '203.0.113.0/24',
          },
          'web',
          null,
        ],
      ],
    );
  });

  void it('covers stateless jwt logins too', async () => {
    const user = await signUp(server);
    assert.equal((await tokenLogin(server, user.email, HOME, 'api')).statusCode, 200);
    assert.equal((await tokenLogin(server, user.email, OFFICE, 'api')).statusCode, 200);
    assert.deepEqual(
      (await suspicious(server, user.id)).map((e) => e.detail['signal']),
      ['new_device'],
    );
  });

  void it('revoke refuses the login on both endpoints, and the device stays unknown', async () => {
    const user = await signUp(strict);
    assert.equal((await tokenLogin(strict, user.email, HOME)).statusCode, 200);
    const before = await strict.services.storage.listActiveSessions(user.id, strict.clock.now());

    for (let attempt = 0; attempt < 2; attempt++) {
      const token = await tokenLogin(strict, user.email, OFFICE);
      assert.equal(token.statusCode, 400);
      assert.deepEqual(json(token), {
        error: 'invalid_grant',
        error_description: 'login refused: suspicious activity',
      });
      const cookie = await cookieLogin(strict, user.email, OFFICE);
      assert.equal(cookie.response.statusCode, 403);
      assert.equal(json(cookie.response)['code'], 'forbidden');
      assert.equal(cookie.cookie, '');
    }
    const afterwards = await strict.services.storage.listActiveSessions(
      user.id,
      strict.clock.now(),
    );
    assert.equal(afterwards.length, before.length);
    const failed = await eventsOf(strict, user.id, 'login_failed');
    assert.equal(failed.length, 4);
    assert.deepEqual(failed[0]?.detail, { reason: 'suspicious_activity' });
    const events = await suspicious(strict, user.id);
    assert.equal(events.length, 4);
    assert.equal(events[0]?.detail['action'], 'revoke');
    // The known device still logs in.
    assert.equal((await tokenLogin(strict, user.email, HOME)).statusCode, 200);
  });
});
