// Logs never hold a secret: a real server logging at `trace` into memory, driven over HTTP through
// every flow that handles a password, a token or a cookie, must log the requests and none of them.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { validateConfig } from '../../src/config/load.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { PASSWORD, uniqueEmail } from '../support/harness.js';

/** A log destination that keeps every line in memory. */
class MemoryLog extends Writable {
  readonly chunks: string[] = [];
  override _write(chunk: Buffer | string, _encoding: string, done: () => void): void {
    this.chunks.push(chunk.toString());
    done();
  }
  get text(): string {
    return this.chunks.join('');
  }
}

describe('logging', () => {
  const log = new MemoryLog();
  /** Every secret that crossed the wire, to be looked for in the log afterwards. */
  const secrets = new Map<string, string>();
  let dataDir: string;
  let server: RunningServer;
  let serverClosed = false;
  let internalErrorRequestId: string | undefined;

  function remember(what: string, value: string | null | undefined): string {
    assert.ok(value, `${what} is missing`);
    secrets.set(what, value);
    return value;
  }

  async function call(
    method: string,
    path: string,
    options: { body?: unknown; form?: string; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
    const headers: Record<string, string> = { 'user-agent': 'logging-test', ...options.headers };
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    } else if (options.form !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = options.form;
    }
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
    });
    const text = await response.text();
    return {
      status: response.status,
      body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
      headers: response.headers,
    };
  }

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'latchkey-logging-'));
    // Port 0 binds an ephemeral port; the issuer then defaults to http://127.0.0.1:0, which the
    // config accepts (loopback http) and which is all these flows need.
    const config = validateConfig({ port: 0, host: '127.0.0.1', dataDir, logLevel: 'trace' });
    server = await startServer(config, { logDestination: log });

    const email = uniqueEmail('logged');
    remember('password', PASSWORD);
    assert.equal(
      (await call('POST', '/v1/accounts', { body: { email, password: PASSWORD } })).status,
      201,
    );

    // Hybrid password grant (JSON), then refresh (form).
    const grant = await call('POST', '/v1/token', {
      body: { grant_type: 'password', username: email, password: PASSWORD, client_id: 'app' },
    });
    assert.equal(grant.status, 200);
    const access = remember('access token', grant.body['access_token'] as string);
    const refreshToken = remember('refresh token', grant.body['refresh_token'] as string);
    const refreshed = await call('POST', '/v1/token', {
      form: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        client_id: 'app',
      }).toString(),
    });
    assert.equal(refreshed.status, 200);
    const access2 = remember('rotated access token', refreshed.body['access_token'] as string);
    const refresh2 = remember('rotated refresh token', refreshed.body['refresh_token'] as string);

    // Bearer calls, good and bad.
    remember('authorization header', `Bearer ${access2}`);
    assert.equal(
      (await call('GET', '/v1/me', { headers: { authorization: `Bearer ${access2}` } })).status,
      200,
    );
    assert.equal(
      (await call('GET', '/v1/sessions', { headers: { authorization: `bearer ${access2}` } }))
        .status,
      200,
    );
    const forged = remember('forged bearer', `${access2.slice(0, -10)}AAAAAAAAAA`);
    assert.equal(
      (await call('GET', '/v1/me', { headers: { authorization: `Bearer ${forged}` } })).status,
      401,
    );
    const basic = remember(
      'basic credentials',
      `Basic ${Buffer.from('rs:not-a-configured-secret-0123456789').toString('base64')}`,
    );
    assert.equal(
      (
        await call('POST', '/v1/token/introspect', {
          body: { token: access2 },
          headers: { authorization: basic },
        })
      ).status,
      401,
    );

    // Revocation of the access token and of the refresh family.
    assert.equal((await call('POST', '/v1/token/revoke', { body: { token: access } })).status, 200);
    assert.equal(
      (
        await call('POST', '/v1/token/revoke', {
          form: `token=${encodeURIComponent(refresh2)}&token_type_hint=refresh_token`,
        })
      ).status,
      200,
    );

    // A failing login on both login endpoints.
    const wrong = remember('wrong password', 'not my password, but close to it 77');
    assert.equal(
      (
        await call('POST', '/v1/token', {
          body: { grant_type: 'password', username: email, password: wrong, client_id: 'app' },
        })
      ).status,
      400,
    );
    assert.equal(
      (await call('POST', '/v1/session', { body: { email, password: wrong } })).status,
      401,
    );

    // A cookie session: login, use with the CSRF token, password change, logout.
    const login = await call('POST', '/v1/session', { body: { email, password: PASSWORD } });
    assert.equal(login.status, 200);
    const setCookie = login.headers.get('set-cookie') ?? '';
    const cookieValue = remember('session cookie', /lk_session=([^;]+)/.exec(setCookie)?.[1]);
    const csrf = remember('CSRF token', login.body['csrfToken'] as string);
    const cookie = remember('cookie header', `lk_session=${cookieValue}`);
    assert.equal((await call('GET', '/v1/session', { headers: { cookie } })).status, 200);
    const newPassword = remember('new password', 'a brand new passphrase for logging');
    const changed = await call('POST', '/v1/me/password', {
      body: { currentPassword: PASSWORD, newPassword },
      headers: { cookie, 'x-csrf-token': csrf },
    });
    assert.equal(changed.status, 204);
    const renewed = /lk_session=([^;]+)/.exec(changed.headers.get('set-cookie') ?? '')?.[1];
    remember('renewed session cookie', renewed);
    // The CSRF token follows the renewed cookie.
    const current = await call('GET', '/v1/session', {
      headers: { cookie: `lk_session=${renewed}` },
    });
    assert.equal(current.status, 200);
    const csrf2 = remember('renewed CSRF token', current.body['csrfToken'] as string);
    assert.equal(
      (
        await call('DELETE', '/v1/session', {
          headers: { cookie: `lk_session=${renewed}`, 'x-csrf-token': csrf2 },
        })
      ).status,
      204,
    );
    // A cookie the server never issued.
    const stranger = remember('unknown cookie', randomBytes(32).toString('base64url'));
    assert.equal(
      (await call('GET', '/v1/me', { headers: { cookie: `lk_session=${stranger}` } })).status,
      401,
    );

    // An internal failure: its details go to the log under the request ID, with no secret.
    await server.services.storage.close();
    const failed = await call('POST', '/v1/accounts', {
      body: { email: uniqueEmail('down'), password: PASSWORD },
    });
    assert.equal(failed.status, 500);
    internalErrorRequestId = /[0-9a-f-]{36}/.exec(String(failed.body['detail']))?.[0];

    await server.close();
    serverClosed = true;
  });

  after(async () => {
    if (server && !serverClosed) await server.close().catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('logs the requests', () => {
    const lines = log.text.split('\n').filter((line) => line !== '');
    assert.ok(lines.length >= 20, `only ${lines.length} log lines`);
    for (const line of lines) JSON.parse(line);
    for (const path of ['/v1/accounts', '/v1/token', '/v1/me', '/v1/session', '/v1/token/revoke']) {
      assert.ok(log.text.includes(`"${path}"`), `no log line for ${path}`);
    }
    assert.match(log.text, /"statusCode":401/);
  });

  it('logs an internal failure with the request ID the client was given', () => {
    assert.ok(internalErrorRequestId, 'the 500 carried no request ID');
    const errorLines = log.text
      .split('\n')
      .filter((line) => line.includes(internalErrorRequestId!) && line.includes('"err"'));
    assert.ok(errorLines.length >= 1, 'no error line with the request ID');
  });

  it('holds no password, token, cookie or authorization value', () => {
    assert.ok(secrets.size >= 15, `only ${secrets.size} secrets collected`);
    const text = log.text;
    for (const [what, value] of secrets) {
      assert.equal(text.includes(value), false, `the log contains the ${what}`);
      // JSON escaping must not hide one either.
      assert.equal(text.includes(JSON.stringify(value).slice(1, -1)), false, `escaped ${what}`);
    }
    // Nor any part that identifies a JWT: its signature.
    for (const what of ['access token', 'rotated access token']) {
      const signature = secrets.get(what)!.split('.')[2]!;
      assert.equal(text.includes(signature), false, `the log contains the ${what} signature`);
    }
    assert.doesNotMatch(text, /lkr_[A-Za-z0-9_-]{10}/);
  });
});
