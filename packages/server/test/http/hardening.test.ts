// Security headers on every response, CORS for configured origins only, a user's own activity
// log, and audit retention.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBackgroundTasks } from '../../src/background.js';
import {
  json,
  passwordGrant,
  signUp,
  startTestServer,
  type TestServer,
} from '../support/harness.js';

const APP_ORIGIN = 'https://app.example.test';

describe('security headers and CORS', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      clients: [
        { id: 'web', strategy: 'session', allowedOrigins: [APP_ORIGIN] },
        { id: 'app', strategy: 'hybrid' },
        { id: 'api', strategy: 'jwt' },
      ],
    });
  });
  after(() => server.close());

  it('sends the security headers on success, error and unknown routes', async () => {
    for (const request of [
      { url: '/healthz' },
      { url: '/v1/me' },
      { url: '/nope' },
      {
        method: 'POST' as const,
        url: '/v1/accounts',
        payload: '{',
        headers: { 'content-type': 'application/json' },
      },
      // 415, 413, a malformed URL escape and a preflight: answered before or outside any route.
      {
        method: 'POST' as const,
        url: '/v1/accounts',
        payload: 'x',
        headers: { 'content-type': 'text/plain' },
      },
      {
        method: 'POST' as const,
        url: '/v1/accounts',
        payload: JSON.stringify({ email: 'x'.repeat(20_000) }),
        headers: { 'content-type': 'application/json' },
      },
      { url: '/v1/sessions/%E0%A4%A' },
      { method: 'OPTIONS' as const, url: '/v1/me', headers: { origin: APP_ORIGIN } },
    ]) {
      const response = await server.app.inject(request);
      assert.equal(response.headers['x-content-type-options'], 'nosniff', request.url);
      assert.equal(response.headers['referrer-policy'], 'no-referrer');
      assert.equal(
        response.headers['content-security-policy'],
        "default-src 'none'; frame-ancestors 'none'",
      );
    }
  });

  it('allows credentials only for an exact configured origin', async () => {
    const allowed = await server.app.inject({ url: '/healthz', headers: { origin: APP_ORIGIN } });
    assert.equal(allowed.headers['access-control-allow-origin'], APP_ORIGIN);
    assert.equal(allowed.headers['access-control-allow-credentials'], 'true');
    assert.match(String(allowed.headers['vary']), /Origin/);
    for (const origin of [
      'https://evil.example',
      `${APP_ORIGIN}.evil.example`,
      'null',
      'http://app.example.test',
    ]) {
      const refused = await server.app.inject({ url: '/healthz', headers: { origin } });
      assert.equal(refused.headers['access-control-allow-origin'], undefined, origin);
      assert.equal(refused.headers['access-control-allow-credentials'], undefined);
    }
  });

  it('answers preflights for configured origins with the allowed methods and headers', async () => {
    const preflight = await server.app.inject({
      method: 'OPTIONS',
      url: '/v1/session',
      headers: { origin: APP_ORIGIN, 'access-control-request-method': 'POST' },
    });
    assert.equal(preflight.statusCode, 204);
    assert.equal(preflight.headers['access-control-allow-origin'], APP_ORIGIN);
    assert.match(String(preflight.headers['access-control-allow-headers']), /x-csrf-token/);
    const foreign = await server.app.inject({
      method: 'OPTIONS',
      url: '/v1/session',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(foreign.headers['access-control-allow-origin'], undefined);
  });
});

describe('GET /v1/me/activity', () => {
  it('lists the caller’s own security events, newest first, with paging', async () => {
    const server = await startTestServer();
    try {
      const user = await signUp(server);
      const other = await signUp(server);
      await server.app.inject({
        method: 'POST',
        url: '/v1/session',
        payload: { email: user.email, password: 'not the password at all' },
      });
      const pair = await passwordGrant(server, user.email, 'app');
      await passwordGrant(server, other.email, 'app');
      const page = async (query = '') =>
        json(
          await server.app.inject({
            url: `/v1/me/activity${query}`,
            headers: { authorization: `Bearer ${pair.access_token}` },
          }),
        ) as {
          events: Array<{ type: string; userId: string; ip: string }>;
          nextCursor: string | null;
        };
      const all = await page();
      assert.deepEqual(
        all.events.map((e) => e.type),
        ['login_succeeded', 'login_failed', 'signup'],
      );
      assert.ok(all.events.every((e) => e.userId === user.id));
      const first = await page('?limit=1');
      assert.equal(first.events.length, 1);
      const second = await page(`?limit=1&cursor=${first.nextCursor}`);
      assert.equal(second.events[0]?.type, 'login_failed');
      const bad = await server.app.inject({
        url: '/v1/me/activity?limit=0',
        headers: { authorization: `Bearer ${pair.access_token}` },
      });
      assert.equal(bad.statusCode, 400);
      assert.equal((await server.app.inject({ url: '/v1/me/activity' })).statusCode, 401);
    } finally {
      await server.close();
    }
  });
});

describe('audit retention', () => {
  it('prunes events older than audit.retention', async () => {
    const server = await startTestServer({ audit: { retention: '1d' } });
    try {
      const user = await signUp(server);
      server.clock.advance(25 * 60 * 60 * 1000);
      await passwordGrant(server, user.email, 'api');
      const tasks = startBackgroundTasks(server.services, { warn: () => undefined });
      await tasks.runOnce();
      tasks.stop();
      const events = await server.services.storage.listAudit({ userId: user.id, limit: 10 });
      assert.deepEqual(
        events.map((e) => e.type),
        ['login_succeeded'],
      );
    } finally {
      await server.close();
    }
  });
});

describe('known-device retention', () => {
  it('forgets devices not used to log in for risk.forgetDevicesAfter', async () => {
    const server = await startTestServer({ risk: { forgetDevicesAfter: '2d' } });
    try {
      const { storage } = server.services;
      const user = await signUp(server);
      const now = server.clock.now();
      await storage.rememberDevice(user.id, 'stale', now - 3 * 86_400_000);
      await storage.rememberDevice(user.id, 'recent', now - 86_400_000);
      const tasks = startBackgroundTasks(server.services, { warn: () => undefined });
      await tasks.runOnce();
      tasks.stop();
      assert.equal((await storage.findKnownDevice(user.id, 'stale')).known, false);
      assert.equal((await storage.findKnownDevice(user.id, 'recent')).known, true);
    } finally {
      await server.close();
    }
  });
});
