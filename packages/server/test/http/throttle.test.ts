// Abuse limits: failed logins per account and address with growing waits, the hard limit per
// account, sign-ups per address, password changes, per-address flood limits, and which address
// counts when proxies are (not) trusted. All waits run on the injected clock.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import {
  PASSWORD,
  json,
  passwordGrant,
  signUp,
  startTestServer,
  uniqueEmail,
  type TestServer,
} from '../support/harness.js';

const WRONG = 'definitely not the password';

function cookieLogin(
  server: TestServer,
  email: string,
  password: string,
  ip = '203.0.113.7',
  headers: Record<string, string> = {},
) {
  return server.app.inject({
    method: 'POST',
    url: '/v1/session',
    remoteAddress: ip,
    headers,
    payload: { email, password },
  });
}

function tokenLogin(server: TestServer, email: string, password: string, ip = '203.0.113.7') {
  return server.app.inject({
    method: 'POST',
    url: '/v1/token',
    remoteAddress: ip,
    payload: { grant_type: 'password', username: email, password, client_id: 'api' },
  });
}

function assertRateLimited(response: LightMyRequestResponse, retryAfter?: number): void {
  assert.equal(response.statusCode, 429, response.body);
  assert.equal(json(response)['code'], 'rate_limited');
  assert.match(String(response.headers['retry-after']), /^\d+$/);
  if (retryAfter !== undefined) assert.equal(response.headers['retry-after'], String(retryAfter));
}

async function withServer(
  file: Record<string, unknown>,
  run: (server: TestServer) => Promise<void>,
) {
  const server = await startTestServer(file);
  try {
    await run(server);
  } finally {
    await server.close();
  }
}

describe('login throttling', () => {
  it('makes an account wait after 5 failures from one address, even with the right password, then lets it in', () =>
    withServer({}, async (server) => {
      const user = await signUp(server);
      for (let i = 0; i < 5; i++)
        assert.equal((await cookieLogin(server, user.email, WRONG)).statusCode, 401);
      assertRateLimited(await cookieLogin(server, user.email, PASSWORD), 1);
      assertRateLimited(await tokenLogin(server, user.email, PASSWORD), 1);
      server.clock.advance(1000);
      assert.equal((await cookieLogin(server, user.email, PASSWORD)).statusCode, 200);
      // Success ends the run: the next failure is free again.
      assert.equal((await cookieLogin(server, user.email, WRONG)).statusCode, 401);
      assert.equal((await cookieLogin(server, user.email, PASSWORD)).statusCode, 200);
    }));

  it('doubles the wait with each further failure, up to the maximum', () =>
    withServer({ throttle: { maxDelay: '8s' } }, async (server) => {
      const user = await signUp(server);
      const waits: string[] = [];
      for (let i = 0; i < 5; i++) await cookieLogin(server, user.email, WRONG);
      for (let i = 0; i < 5; i++) {
        const refused = await cookieLogin(server, user.email, WRONG);
        waits.push(String(refused.headers['retry-after']));
        server.clock.advance(Number(refused.headers['retry-after']) * 1000);
        assert.equal((await cookieLogin(server, user.email, WRONG)).statusCode, 401);
      }
      assert.deepEqual(waits, ['1', '2', '4', '8', '8']);
    }));

  it('throttles unknown emails exactly like known ones', () =>
    withServer({}, async (server) => {
      const unknown = uniqueEmail('ghost');
      for (let i = 0; i < 5; i++)
        assert.equal((await cookieLogin(server, unknown, WRONG)).statusCode, 401);
      assertRateLimited(await cookieLogin(server, unknown, WRONG), 1);
    }));

  it('does not lock the owner out from another address; the hard limit waits, then lets in', () =>
    withServer({ throttle: { accountHardLimit: 8, hardLimitWait: '1h' } }, async (server) => {
      const user = await signUp(server);
      for (let i = 0; i < 5; i++) await cookieLogin(server, user.email, WRONG, '198.51.100.1');
      assertRateLimited(await cookieLogin(server, user.email, PASSWORD, '198.51.100.1'));
      assert.equal((await cookieLogin(server, user.email, PASSWORD, '192.0.2.50')).statusCode, 200);

      // Failures spread over many addresses reach the account's hard limit.
      for (let i = 0; i < 8; i++)
        await cookieLogin(server, user.email, WRONG, `198.51.100.${10 + i}`);
      assertRateLimited(await cookieLogin(server, user.email, PASSWORD, '192.0.2.50'), 3600);
      server.clock.advance(3600 * 1000);
      assert.equal((await cookieLogin(server, user.email, PASSWORD, '192.0.2.50')).statusCode, 200);
    }));

  it('limits one address spraying many accounts', () =>
    withServer({ throttle: { ipFreeFailures: 3 } }, async (server) => {
      for (let i = 0; i < 3; i++)
        await cookieLogin(server, uniqueEmail('spray'), WRONG, '198.51.100.99');
      const user = await signUp(server);
      assertRateLimited(await cookieLogin(server, user.email, PASSWORD, '198.51.100.99'));
      assert.equal((await cookieLogin(server, user.email, PASSWORD, '192.0.2.1')).statusCode, 200);
    }));

  it('ignores X-Forwarded-For on a direct connection, and honours it behind a trusted proxy', async () => {
    await withServer({ throttle: { ipFreeFailures: 2 } }, async (server) => {
      for (let i = 0; i < 2; i++)
        await cookieLogin(server, uniqueEmail('x'), WRONG, '198.51.100.5');
      const user = await signUp(server);
      const spoofed = await cookieLogin(server, user.email, PASSWORD, '198.51.100.5', {
        'x-forwarded-for': '192.0.2.77',
      });
      assertRateLimited(spoofed);
    });
    await withServer(
      { trustProxy: ['10.0.0.0/8'], throttle: { ipFreeFailures: 2 } },
      async (server) => {
        const viaProxy = (client: string) => ({ 'x-forwarded-for': client });
        for (let i = 0; i < 2; i++) {
          await cookieLogin(server, uniqueEmail('x'), WRONG, '10.0.0.1', viaProxy('198.51.100.5'));
        }
        const user = await signUp(server);
        assertRateLimited(
          await cookieLogin(server, user.email, PASSWORD, '10.0.0.1', viaProxy('198.51.100.5')),
        );
        const other = await cookieLogin(
          server,
          user.email,
          PASSWORD,
          '10.0.0.1',
          viaProxy('192.0.2.8'),
        );
        assert.equal(other.statusCode, 200);
      },
    );
  });

  it('answers the throttled password grant with 429 rate_limited too', () =>
    withServer({}, async (server) => {
      const user = await signUp(server);
      for (let i = 0; i < 5; i++)
        assert.equal((await tokenLogin(server, user.email, WRONG)).statusCode, 400);
      const refused = await tokenLogin(server, user.email, PASSWORD);
      assertRateLimited(refused, 1);
      server.clock.advance(1000);
      assert.equal((await tokenLogin(server, user.email, PASSWORD)).statusCode, 200);
    }));
});

describe('other throttles', () => {
  it('limits sign-ups per address per hour', () =>
    withServer({ throttle: { signupsPerIpPerHour: 3 } }, async (server) => {
      const attempt = (ip: string) =>
        server.app.inject({
          method: 'POST',
          url: '/v1/accounts',
          remoteAddress: ip,
          payload: { email: uniqueEmail('s'), password: PASSWORD },
        });
      for (let i = 0; i < 3; i++) assert.equal((await attempt('198.51.100.3')).statusCode, 201);
      const before = (await server.services.storage.listUsers({ limit: 100 })).length;
      assertRateLimited(await attempt('198.51.100.3'));
      assert.equal((await server.services.storage.listUsers({ limit: 100 })).length, before);
      assert.equal((await attempt('192.0.2.3')).statusCode, 201);
      server.clock.advance(3600 * 1000);
      assert.equal((await attempt('198.51.100.3')).statusCode, 201);
    }));

  it('throttles wrong current passwords on password change', () =>
    withServer({}, async (server) => {
      const user = await signUp(server);
      const { access_token: token } = await passwordGrant(server, user.email, 'api');
      const change = (current: string) =>
        server.app.inject({
          method: 'POST',
          url: '/v1/me/password',
          headers: { authorization: `Bearer ${token}` },
          payload: { currentPassword: current, newPassword: 'a completely new passphrase' },
        });
      for (let i = 0; i < 5; i++) assert.equal((await change(WRONG)).statusCode, 401);
      assertRateLimited(await change(PASSWORD));
      server.clock.advance(1000);
      assert.equal((await change(PASSWORD)).statusCode, 204);
    }));

  it('caps requests per address per minute on every route', () =>
    withServer({ rateLimits: { defaultPerMinute: 5, refreshPerMinute: 5 } }, async (server) => {
      const health = () => server.app.inject({ url: '/v1/me', remoteAddress: '198.51.100.44' });
      for (let i = 0; i < 5; i++) assert.equal((await health()).statusCode, 401);
      assertRateLimited(await health());
      assert.equal(
        (await server.app.inject({ url: '/v1/me', remoteAddress: '192.0.2.44' })).statusCode,
        401,
      );
      server.clock.advance(60_000);
      assert.equal((await health()).statusCode, 401);
    }));
});
