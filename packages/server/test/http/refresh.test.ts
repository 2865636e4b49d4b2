// Refresh rotation: the race contract, reuse detection and the family's idle and absolute limits,
// all on an injected clock.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  getMe,
  json,
  passwordGrant,
  refresh,
  signUp,
  startTestServer,
  type TestServer,
} from '../support/harness.js';

describe('refresh-token rotation', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      tokens: {
        refreshReuseGrace: '10s',
        refreshIdleTtl: '1h',
        refreshAbsoluteTtl: '1d',
        accessTtl: '5m',
      },
    });
  });
  after(() => server.close());

  it('returns a new pair and retires the presented token', async () => {
    const user = await signUp(server);
    const first = await passwordGrant(server, user.email);
    assert.match(first.refresh_token!, /^lkr_[A-Za-z0-9_-]{43}$/);
    const response = await refresh(server, first.refresh_token!);
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['cache-control'], 'no-store');
    const second = json(response);
    assert.notEqual(second['refresh_token'], first.refresh_token);
    assert.equal(second['session_id'], first.session_id);
    assert.equal((await getMe(server, second['access_token'] as string)).statusCode, 200);
  });

  it('gives 20 concurrent refreshes of one token one and the same successor', async () => {
    const user = await signUp(server);
    const pair = await passwordGrant(server, user.email);
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => refresh(server, pair.refresh_token!)),
    );
    assert.deepEqual(
      responses.map((r) => r.statusCode),
      Array.from({ length: 20 }, () => 200),
    );
    const successors = new Set(responses.map((r) => json(r)['refresh_token']));
    assert.equal(successors.size, 1);
    const [successor] = [...successors] as string[];
    assert.equal((await refresh(server, successor!)).statusCode, 200);
  });

  it('answers a retry within the grace window with the same successor', async () => {
    const user = await signUp(server);
    const pair = await passwordGrant(server, user.email);
    const first = json(await refresh(server, pair.refresh_token!));
    server.clock.advance(9_000);
    const retry = json(await refresh(server, pair.refresh_token!));
    assert.equal(retry['refresh_token'], first['refresh_token']);
  });

  it('treats the parent after the grace window as reuse: family revoked, audit recorded', async () => {
    const user = await signUp(server);
    const pair = await passwordGrant(server, user.email);
    const rotated = json(await refresh(server, pair.refresh_token!));
    const accessWithSid = rotated['access_token'] as string;
    server.clock.advance(10_001);

    const reuse = await refresh(server, pair.refresh_token!);
    assert.equal(reuse.statusCode, 400);
    assert.deepEqual(json(reuse), { error: 'invalid_grant' });

    // The successor dies with the family, and so do access tokens with its sid.
    const successor = await refresh(server, rotated['refresh_token'] as string);
    assert.equal(successor.statusCode, 400);
    assert.equal((await getMe(server, accessWithSid)).statusCode, 401);

    const events = await server.services.storage.listAudit({
      userId: user.id,
      type: 'refresh_token_reused',
      limit: 10,
    });
    assert.equal(events.length, 1);
    assert.equal(events[0]?.sessionId, pair.session_id);
  });

  it('grants grace only to the immediate parent of the current token', async () => {
    const user = await signUp(server);
    const pair = await passwordGrant(server, user.email);
    const second = json(await refresh(server, pair.refresh_token!))['refresh_token'] as string;
    const third = json(await refresh(server, second))['refresh_token'] as string;
    // The grandparent is reuse even inside the grace window.
    assert.equal((await refresh(server, pair.refresh_token!)).statusCode, 400);
    assert.equal((await refresh(server, third)).statusCode, 400);
  });

  it('refuses a token presented by another client', async () => {
    const user = await signUp(server);
    const pair = await passwordGrant(server, user.email);
    const response = await refresh(server, pair.refresh_token!, 'api');
    assert.equal(response.statusCode, 400);
    assert.equal((await refresh(server, pair.refresh_token!)).statusCode, 200);
  });

  it('ends the family after the idle limit, measured from the last refresh', async () => {
    const user = await signUp(server);
    const pair = await passwordGrant(server, user.email);
    server.clock.advance(59 * 60_000);
    const next = json(await refresh(server, pair.refresh_token!))['refresh_token'] as string;
    server.clock.advance(59 * 60_000);
    const later = json(await refresh(server, next))['refresh_token'] as string;
    server.clock.advance(60 * 60_000 + 1);
    assert.equal((await refresh(server, later)).statusCode, 400);
  });

  it('ends the family at the absolute limit however active it is', async () => {
    const user = await signUp(server);
    const pair = await passwordGrant(server, user.email);
    let token = pair.refresh_token!;
    // 24 refreshes 59 minutes apart keep it idle-fresh for 23 h 36 min...
    for (let step = 1; step <= 24; step++) {
      server.clock.advance(59 * 60_000);
      const response = await refresh(server, token);
      assert.equal(response.statusCode, 200, `refresh ${step}`);
      token = json(response)['refresh_token'] as string;
    }
    // ...and 30 minutes later the day is over, though the family was used recently.
    server.clock.advance(30 * 60_000);
    assert.equal((await refresh(server, token)).statusCode, 400);
  });

  it('expires access tokens at exp (with at most 1 s of leeway)', async () => {
    const user = await signUp(server);
    const pair = await passwordGrant(server, user.email);
    server.clock.advance(5 * 60_000 - 1_000);
    assert.equal((await getMe(server, pair.access_token)).statusCode, 200);
    // Past exp plus the 1 s of leeway Latchkey allows itself.
    server.clock.advance(2_001);
    const expired = await getMe(server, pair.access_token);
    assert.equal(expired.statusCode, 401);
    assert.equal(expired.headers['www-authenticate'], 'Bearer error="invalid_token"');
  });

  it('refuses malformed and unknown refresh tokens without changing anything', async () => {
    for (const token of ['', 'lkr_short', 'not-a-token', `lkr_${'A'.repeat(43)}`]) {
      const response = await refresh(server, token);
      assert.equal(response.statusCode, 400);
      assert.ok(['invalid_grant', 'invalid_request'].includes(json(response)['error'] as string));
    }
  });
});
