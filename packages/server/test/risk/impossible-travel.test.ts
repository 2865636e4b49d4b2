// Impossible travel, with a small MaxMind fixture named by `risk.geoDatabase`: two uses of one
// session, or a login and the user's last known place, too far apart for the time between them.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { validateConfig } from '../../src/config/load.js';
import { createServices } from '../../src/latchkey.js';
import { openSqliteStorage } from '../../src/adapters/sql/sqlite.js';
import { json, signUp, startTestServer, type TestServer } from '../support/harness.js';
import { PLACES, writeGeoFixture } from '../support/geo-fixture.js';
import {
  AGENTS,
  cookieLogin,
  device,
  refreshFrom,
  suspicious,
  tokenLogin,
  withCookie,
} from '../support/risk.js';

const PARIS = device(PLACES.paris.ip);
const VERSAILLES = device(PLACES.versailles.ip);
const NEW_YORK = device(PLACES.newYork.ip);
const TOKYO = device(PLACES.tokyo.ip);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

interface TokenBody {
  refresh_token: string;
  session_id: string;
}

void describe('impossible travel', () => {
  const fixture = writeGeoFixture(6);
  let server: TestServer;
  let strict: TestServer;
  before(async () => {
    server = await startTestServer({ risk: { geoDatabase: fixture.path } });
    strict = await startTestServer({
      risk: { geoDatabase: fixture.path, actions: { impossibleTravel: 'revoke' } },
    });
  });
  after(async () => {
    await server.close();
    await strict.close();
    fixture.remove();
  });

  async function login(target: TestServer, email: string, from = PARIS): Promise<TokenBody> {
    const response = await tokenLogin(target, email, from);
    assert.equal(response.statusCode, 200, response.body);
    return json(response) as unknown as TokenBody;
  }

  void it('refuses a refresh from the other side of the ocean ten minutes later', async () => {
    const user = await signUp(server);
    const tokens = await login(server, user.email);
    server.clock.advance(10 * MINUTE);
    const refused = await refreshFrom(server, tokens.refresh_token, NEW_YORK);
    assert.deepEqual(json(refused), {
      error: 'invalid_grant',
      error_description: 'reauthentication_required',
    });
    const events = await suspicious(server, user.id);
    const travel = events.find((e) => e.detail['signal'] === 'impossible_travel');
    assert.ok(travel, JSON.stringify(events));
    const { distanceKm, speedKmh, ...rest } = travel.detail;
    assert.deepEqual(rest, {
      signal: 'impossible_travel',
      action: 'reauthenticate',
      previousCountry: 'FR',
      country: 'US',
      elapsedSeconds: 600,
      previousNetwork: '192.0.2.0/24',
      network: '203.0.113.0/24',
    });
    assert.ok(Math.abs(Number(distanceKm) - 5837) < 10, String(distanceKm));
    assert.ok(Math.abs(Number(speedKmh) - 5837 * 6) < 60, String(speedKmh));
    assert.equal(travel.sessionId, tokens.session_id);
    // The network change is its own signal (audit by default).
    assert.deepEqual(events.map((e) => e.detail['signal']).sort(), [
      'impossible_travel',
      'network_changed',
    ]);
    assert.equal((await refreshFrom(server, tokens.refresh_token, PARIS)).statusCode, 400);
  });

  void it('lets the same trip through when there was time for it', async () => {
    const user = await signUp(server);
    const tokens = await login(server, user.email);
    server.clock.advance(10 * HOUR);
    const response = await refreshFrom(server, tokens.refresh_token, NEW_YORK);
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(
      (await suspicious(server, user.id)).map((e) => e.detail['signal']),
      ['network_changed'],
    );
  });

  void it('counts from the last use, not from the login', async () => {
    const user = await signUp(server);
    let tokens = await login(server, user.email);
    // In Paris all day, refreshing: then New York an hour after the last refresh is impossible.
    for (let i = 0; i < 12; i++) {
      server.clock.advance(HOUR);
      tokens = json(await refreshFrom(server, tokens.refresh_token, PARIS)) as unknown as TokenBody;
    }
    server.clock.advance(HOUR);
    const refused = await refreshFrom(server, tokens.refresh_token, NEW_YORK);
    assert.equal(json(refused)['error_description'], 'reauthentication_required');
    const travel = (await suspicious(server, user.id)).find(
      (e) => e.detail['signal'] === 'impossible_travel',
    );
    assert.equal(travel?.detail['elapsedSeconds'], 3600);
  });

  void it('ignores short hops within the accuracy of the data, and unknown places', async () => {
    const user = await signUp(server);
    let tokens = await login(server, user.email);
    for (const from of [VERSAILLES, device('10.0.0.1'), PARIS]) {
      server.clock.advance(MINUTE);
      const response = await refreshFrom(server, tokens.refresh_token, from);
      assert.equal(response.statusCode, 200, response.body);
      tokens = json(response) as unknown as TokenBody;
    }
    const signals = (await suspicious(server, user.id)).map((e) => e.detail['signal']);
    assert.deepEqual(signals, ['network_changed', 'network_changed', 'network_changed']);
  });

  void it('places IPv6 addresses too', async () => {
    const user = await signUp(server);
    const tokens = await login(server, user.email);
    server.clock.advance(HOUR);
    const refused = await refreshFrom(server, tokens.refresh_token, TOKYO);
    assert.equal(json(refused)['error_description'], 'reauthentication_required');
    const travel = (await suspicious(server, user.id)).find(
      (e) => e.detail['signal'] === 'impossible_travel',
    );
    assert.equal(travel?.detail['country'], 'JP');
    assert.equal(travel?.detail['network'], '2001:db8:1::/48');
  });

  void it('checks cookie sessions on every request', async () => {
    const user = await signUp(server);
    const session = await cookieLogin(server, user.email, PARIS);
    server.clock.advance(MINUTE);
    const response = await withCookie(server, session, NEW_YORK);
    assert.equal(response.statusCode, 401);
    assert.equal(json(response)['code'], 'reauthentication_required');
  });

  void it('at login, compares with where the user was last seen: recorded, login allowed', async () => {
    const user = await signUp(server);
    await login(server, user.email);
    server.clock.advance(30 * MINUTE);
    // At login the password just given is the re-authentication: `reauthenticate` records only.
    const elsewhere = await cookieLogin(
      server,
      user.email,
      device(NEW_YORK.ip, AGENTS.chromeWindows),
    );
    assert.equal(elsewhere.response.statusCode, 200, elsewhere.response.body);
    const travel = (await suspicious(server, user.id)).find(
      (e) => e.detail['signal'] === 'impossible_travel',
    );
    assert.equal(travel?.detail['action'], 'audit');
    assert.equal(travel?.detail['elapsedSeconds'], 1800);
    assert.equal(travel?.clientId, 'web');
  });

  void it('at login, revoke refuses the login on both endpoints', async () => {
    const user = await signUp(strict);
    await login(strict, user.email);
    strict.clock.advance(30 * MINUTE);
    const token = await tokenLogin(strict, user.email, NEW_YORK);
    assert.equal(json(token)['error_description'], 'login refused: suspicious activity');
    const cookie = await cookieLogin(strict, user.email, NEW_YORK);
    assert.equal(cookie.response.statusCode, 403);
    // Later, the trip is possible.
    strict.clock.advance(10 * HOUR);
    assert.equal((await tokenLogin(strict, user.email, NEW_YORK)).statusCode, 200);
  });

  void it('uses stateless logins as the last known place too', async () => {
    const user = await signUp(strict);
    assert.equal((await tokenLogin(strict, user.email, PARIS, 'api')).statusCode, 200);
    strict.clock.advance(MINUTE);
    assert.equal((await tokenLogin(strict, user.email, TOKYO, 'api')).statusCode, 400);
  });
});

void describe('risk.geoDatabase', () => {
  void it('stops start-up, naming the key, when the file cannot be read', async () => {
    const config = validateConfig({
      logLevel: 'silent',
      risk: { geoDatabase: '/nonexistent/geo.mmdb' },
    });
    const storage = await openSqliteStorage({ dataDir: ':memory:' });
    try {
      await assert.rejects(createServices(config, { storage }), /^Error: risk\.geoDatabase: /);
    } finally {
      await storage.close();
    }
  });

  void it('is refused by config validation when not a non-empty string', () => {
    assert.throws(() => validateConfig({ risk: { geoDatabase: '' } }), /risk\.geoDatabase/);
    assert.throws(
      () => validateConfig({ risk: { actions: { newDevice: 'block' } } }),
      /risk\.actions\.newDevice/,
    );
    assert.throws(
      () => validateConfig({ risk: { actions: { refreshTokenReused: 'audit' } } }),
      /risk\.actions\.refreshTokenReused/,
    );
    assert.throws(
      () => validateConfig({ risk: { maxTravelSpeedKmh: 0 } }),
      /risk\.maxTravelSpeedKmh/,
    );
  });

  void it('has documented defaults', () => {
    assert.deepEqual(validateConfig({}).risk, {
      enabled: true,
      geoDatabase: null,
      maxTravelSpeedKmh: 1000,
      forgetDevicesAfter: 180 * 86_400,
      actions: {
        userAgentChanged: 'reauthenticate',
        networkChanged: 'audit',
        impossibleTravel: 'reauthenticate',
        newDevice: 'audit',
        refreshTokenReused: 'revoke',
      },
    });
  });
});
