// End to end against the real Latchkey server: the server runs in this process, a resource server
// using the verifier middleware runs in a separate child process, and every way a token can be
// revoked (logging out a hybrid session, a ban, a password change, RFC 7009 revocation) must make
// the resource server refuse the affected tokens within a second while unaffected ones keep
// working.
//
// The server is loaded from its build output by URL at run time, so the verifier package neither
// depends on the server nor needs it to compile.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

const SERVER_ENTRY = new URL('../../../server/dist/src/index.js', import.meta.url);
const SERVER_ROUTES = new URL('../../../server/dist/src/http/route-table.js', import.meta.url);
const RESOURCE_SERVER = new URL('./support/resource-server.js', import.meta.url);
/** The child's program: the module only exports; importing it (as the test runner may) runs nothing. */
const CHILD_PROGRAM = `import { runResourceServer } from ${JSON.stringify(RESOURCE_SERVER.href)};
await runResourceServer();`;

const PASSWORD = 'correct horse battery staple 42';
const NEW_PASSWORD = 'a different horse, battery and staple 43';
const RS = { id: 'orders-api', secret: 'orders-api-secret-of-at-least-32-bytes-long' };
/** The promise under test: a revocation reaches a subscribed verifier within this. */
const MAX_DELAY_MS = 1_000;

/** Why this test cannot run here, or false. */
function unavailable(): string | false {
  if (!existsSync(SERVER_ENTRY) || !existsSync(SERVER_ROUTES)) {
    return 'server not built (run `npx tsc -b packages/server`)';
  }
  if (!readFileSync(SERVER_ROUTES, 'utf8').includes('/v1/revocations/stream')) {
    return 'server feed not available yet';
  }
  return false;
}

/** The slice of @latchkey/server this test uses, declared here rather than imported. */
interface ServerModule {
  readonly validateConfig: (file: unknown, env: Record<string, string>) => unknown;
  readonly startServer: (config: unknown) => Promise<RunningServer>;
}
interface RunningServer {
  readonly services: {
    readonly accounts: {
      signUp(
        email: string,
        password: string,
        context: { ip: null; userAgent: null },
        roles: string[],
      ): Promise<{ ok: boolean; user?: { id: string } }>;
    };
  };
  close(): Promise<void>;
}

interface TokenPair {
  readonly access_token: string;
  readonly session_id?: string;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

async function startResourceServer(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; url: string; log: () => string }> {
  const child = spawn(process.execPath, ['--input-type=module', '--eval', CHILD_PROGRAM], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`resource server silent: ${output}`)), 15_000);
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /READY (\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`resource server exited with ${code}: ${output}`));
    });
  });
  return { child, url: `http://127.0.0.1:${port}`, log: () => output };
}

const skip = unavailable();

describe('integration: the real server, a resource server in another process', { skip }, () => {
  let server: RunningServer;
  let issuer: string;
  let dataDir: string;
  let resource: { child: ChildProcess; url: string; log: () => string };
  let emails = 0;

  before(async () => {
    const { validateConfig, startServer } = (await import(SERVER_ENTRY.href)) as ServerModule;
    dataDir = mkdtempSync(join(tmpdir(), 'latchkey-verifier-it-'));
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}`;
    const config = validateConfig(
      { port, host: '127.0.0.1', issuer, dataDir, logLevel: 'silent', resourceServers: [RS] },
      {},
    );
    server = await startServer(config);
    resource = await startResourceServer({
      LATCHKEY_ISSUER: issuer,
      // Latchkey's default clients issue tokens for the issuer itself.
      LATCHKEY_AUDIENCE: issuer,
      LATCHKEY_RS_ID: RS.id,
      LATCHKEY_RS_SECRET: RS.secret,
    });
  });

  after(async () => {
    if (resource) {
      const exited = once(resource.child, 'exit');
      resource.child.kill('SIGTERM');
      await exited;
    }
    await server?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const call = async (
    method: string,
    path: string,
    options: { token?: string; body?: unknown } = {},
  ): Promise<Response> =>
    fetch(`${issuer}${path}`, {
      method,
      headers: {
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });

  async function signUp(): Promise<{ id: string; email: string }> {
    const email = `verifier-it-${process.pid}-${++emails}@example.test`;
    const response = await call('POST', '/v1/accounts', { body: { email, password: PASSWORD } });
    assert.equal(response.status, 201, await response.clone().text());
    const { user } = (await response.json()) as { user: { id: string } };
    return { id: user.id, email };
  }

  async function login(email: string, clientId: 'app' | 'api', password = PASSWORD) {
    const response = await call('POST', '/v1/token', {
      body: { grant_type: 'password', username: email, password, client_id: clientId },
    });
    assert.equal(response.status, 200, await response.clone().text());
    return (await response.json()) as TokenPair;
  }

  /** The resource server's answer to this token. */
  async function statusAt(token: string): Promise<number> {
    const response = await fetch(`${resource.url}/me`, {
      headers: { authorization: `Bearer ${token}` },
    });
    await response.arrayBuffer();
    return response.status;
  }

  /** ms until the resource server refuses every one of `tokens` (polled), failing past the limit. */
  async function refusedWithin(tokens: readonly string[], since: number): Promise<number> {
    for (;;) {
      const statuses = await Promise.all(tokens.map(statusAt));
      const elapsed = performance.now() - since;
      if (statuses.every((status) => status === 401)) return elapsed;
      if (elapsed > MAX_DELAY_MS) {
        assert.fail(
          `still accepted after ${Math.round(elapsed)} ms: ${statuses.join(', ')}\n${resource.log()}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async function assertAccepted(...tokens: string[]): Promise<void> {
    for (const token of tokens) assert.equal(await statusAt(token), 200);
  }

  it('logging out a hybrid session refuses its access tokens, not the other session', async (t) => {
    const user = await signUp();
    const loggedOut = await login(user.email, 'app');
    const other = await login(user.email, 'app');
    await assertAccepted(loggedOut.access_token, other.access_token);

    const response = await call('DELETE', `/v1/sessions/${loggedOut.session_id}`, {
      token: other.access_token,
    });
    assert.equal(response.status, 204);
    const delay = await refusedWithin([loggedOut.access_token], performance.now());
    await assertAccepted(other.access_token);
    t.diagnostic(`refused ${Math.round(delay)} ms after the server answered`);
    assert.ok(delay < MAX_DELAY_MS, `${delay} ms`);
  });

  it('banning a user refuses all of their tokens, not other users', async (t) => {
    const adminEmail = `verifier-it-admin-${process.pid}@example.test`;
    const created = await server.services.accounts.signUp(
      adminEmail,
      PASSWORD,
      { ip: null, userAgent: null },
      ['admin'],
    );
    assert.ok(created.ok);
    const admin = await login(adminEmail, 'api');
    const user = await signUp();
    const bystander = await signUp();
    const tokens = [
      (await login(user.email, 'app')).access_token,
      (await login(user.email, 'api')).access_token,
    ];
    const unaffected = (await login(bystander.email, 'api')).access_token;
    await assertAccepted(...tokens, unaffected);

    const response = await call('POST', `/v1/admin/users/${user.id}/ban`, {
      token: admin.access_token,
    });
    assert.equal(response.status, 204);
    const delay = await refusedWithin(tokens, performance.now());
    await assertAccepted(unaffected, admin.access_token);
    t.diagnostic(`refused ${Math.round(delay)} ms after the server answered`);
    assert.ok(delay < MAX_DELAY_MS, `${delay} ms`);
  });

  it('changing a password refuses every earlier token; a token issued after it works', async (t) => {
    const user = await signUp();
    const bystander = await signUp();
    const current = await login(user.email, 'api');
    const tokens = [
      current.access_token,
      (await login(user.email, 'app')).access_token,
      (await login(user.email, 'api')).access_token,
    ];
    const unaffected = (await login(bystander.email, 'app')).access_token;
    await assertAccepted(...tokens, unaffected);

    const response = await call('POST', '/v1/me/password', {
      token: current.access_token,
      body: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD },
    });
    assert.equal(response.status, 204, await response.clone().text());
    const delay = await refusedWithin(tokens, performance.now());
    await assertAccepted(unaffected);
    t.diagnostic(`refused ${Math.round(delay)} ms after the server answered`);
    assert.ok(delay < MAX_DELAY_MS, `${delay} ms`);

    // The epoch moved to the next whole second; a new login is not caught by it.
    const fresh = await login(user.email, 'api', NEW_PASSWORD);
    await assertAccepted(fresh.access_token);
  });

  it('revoking an access token (RFC 7009) refuses that token only', async (t) => {
    const user = await signUp();
    const revoked = (await login(user.email, 'api')).access_token;
    const sibling = (await login(user.email, 'api')).access_token;
    await assertAccepted(revoked, sibling);

    const response = await fetch(`${issuer}/v1/token/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: revoked, token_type_hint: 'access_token' }),
    });
    assert.equal(response.status, 200);
    const delay = await refusedWithin([revoked], performance.now());
    await assertAccepted(sibling);
    t.diagnostic(`refused ${Math.round(delay)} ms after the server answered`);
    assert.ok(delay < MAX_DELAY_MS, `${delay} ms`);
  });

  it('followed the feed over the stream the whole time', async () => {
    const status = (await (await fetch(`${resource.url}/status`)).json()) as {
      feed: { mode: string; streamsOpened: number; failingClosed: boolean };
    };
    assert.equal(status.feed.mode, 'streaming');
    assert.equal(status.feed.streamsOpened, 1, resource.log());
    assert.equal(status.feed.failingClosed, false);
  });
});
