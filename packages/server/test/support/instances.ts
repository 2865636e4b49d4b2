// Real Latchkey servers for scale and fault tests: free ports, server processes started with
// fork() (./instance-main.ts), PostgreSQL URLs pinned to a test schema, and small fetch helpers
// that talk to a server over its socket the way a client would.
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { InstanceReply, InstanceRequest } from './instance-main.js';
import { TEST_DATABASE_URL, queryTestDatabase } from './postgres.js';

export const PASSWORD = 'correct horse battery staple 42';

/** A port nobody listens on right now (the OS picks it; it is free again once probed). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * The test database URL with `search_path` pinned to `schema` (through the startup `options`, as
 * an operator would in LATCHKEY_DATABASE_URL) and an `application_name` that tells this test's
 * connections apart in `pg_stat_activity`.
 */
export function schemaDatabaseUrl(schema: string, applicationName?: string): string {
  const url = new URL(TEST_DATABASE_URL);
  const options = [url.searchParams.get('options'), `-c search_path=${schema}`].filter(Boolean);
  url.searchParams.set('options', options.join(' '));
  if (applicationName !== undefined) url.searchParams.set('application_name', applicationName);
  return url.toString();
}

/** Config file contents every scale test starts from. */
export function baseConfig(overrides: Record<string, unknown>): Record<string, unknown> {
  return {
    host: '127.0.0.1',
    logLevel: 'silent',
    // Every test signs many users up from 127.0.0.1.
    throttle: { signupsPerIpPerHour: 1_000_000 },
    ...overrides,
  };
}

const INSTANCE_SCRIPT = fileURLToPath(new URL('./instance-main.js', import.meta.url));

/** A Latchkey server process. */
export class Instance {
  private output = '';
  private readonly exited: Promise<void>;
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
  }

  /** Forks a server with this config; resolves with its URL once it listens. */
  static async start(
    file: Record<string, unknown>,
    options: { redisPrefix?: string; timeoutMs?: number } = {},
  ): Promise<Instance> {
    const env = { ...process.env };
    // The server process is no test file: keep the runner's context away from it.
    delete env['NODE_TEST_CONTEXT'];
    const child = fork(INSTANCE_SCRIPT, [], {
      execArgv: ['--enable-source-maps'],
      env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    let output = '';
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-20_000);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const started = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`server process did not start in time:\n${output}`)),
        options.timeoutMs ?? 30_000,
      );
      child.once('message', (message: InstanceReply) => {
        clearTimeout(timer);
        if (message.type === 'ready') resolve(message.url);
        else reject(new Error(`server process failed to start: ${message.error}\n${output}`));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(
          new Error(`server process exited (${code ?? signal}) before it started:\n${output}`),
        );
      });
    });
    const request: InstanceRequest = {
      type: 'start',
      file,
      ...(options.redisPrefix === undefined ? {} : { redisPrefix: options.redisPrefix }),
    };
    child.send(request);
    try {
      const instance = new Instance(child, await started);
      instance.output = output;
      child.stdout?.on('data', (chunk: Buffer) => instance.collect(chunk));
      child.stderr?.on('data', (chunk: Buffer) => instance.collect(chunk));
      return instance;
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
  }

  private collect(chunk: Buffer): void {
    this.output = (this.output + chunk.toString()).slice(-20_000);
  }

  /** What the process wrote (the tail), for failure messages. */
  get log(): string {
    return this.output;
  }

  /** Asks the server to close; kills it if it has not exited within `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    if (this.child.connected) this.child.send({ type: 'stop' } satisfies InstanceRequest);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

// --- a client over fetch -----------------------------------------------------------------------

export interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The parsed body, `{}` when it is empty or not JSON. */
  readonly body: Record<string, unknown>;
}

export interface CallOptions {
  readonly json?: unknown;
  readonly form?: Record<string, string>;
  readonly bearer?: string;
  /** The session cookie's value. */
  readonly cookie?: string;
  readonly csrf?: string;
  readonly timeoutMs?: number;
}

export async function call(
  base: string,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<Reply> {
  const headers: Record<string, string> = {};
  let body: string | undefined;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.form !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(options.form).toString();
  }
  if (options.bearer !== undefined) headers['authorization'] = `Bearer ${options.bearer}`;
  if (options.cookie !== undefined) headers['cookie'] = `lk_session=${options.cookie}`;
  if (options.csrf !== undefined) headers['x-csrf-token'] = options.csrf;
  const response = await fetch(base + path, {
    method,
    headers,
    ...(body === undefined ? {} : { body }),
    signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
  });
  const text = await response.text();
  let parsed: Record<string, unknown> = {};
  try {
    const value: unknown = JSON.parse(text);
    if (value && typeof value === 'object') parsed = value as Record<string, unknown>;
  } catch {
    // not JSON
  }
  return { status: response.status, headers: response.headers, text, body: parsed };
}

let emailCounter = 0;
export function uniqueEmail(prefix = 'scale'): string {
  return `${prefix}-${process.pid}-${Date.now()}-${++emailCounter}@example.test`;
}

export async function signUp(
  base: string,
  email = uniqueEmail(),
): Promise<{ id: string; email: string }> {
  const reply = await call(base, 'POST', '/v1/accounts', { json: { email, password: PASSWORD } });
  assert.equal(reply.status, 201, `sign-up: ${reply.text}`);
  return reply.body['user'] as { id: string; email: string };
}

export interface TokenPair {
  readonly access_token: string;
  readonly refresh_token: string;
  readonly session_id: string;
}

export async function tokenLogin(
  base: string,
  email: string,
  clientId = 'app',
): Promise<TokenPair> {
  const reply = await call(base, 'POST', '/v1/token', {
    form: { grant_type: 'password', username: email, password: PASSWORD, client_id: clientId },
  });
  assert.equal(reply.status, 200, `token login: ${reply.text}`);
  return reply.body as unknown as TokenPair;
}

export function refresh(base: string, refreshToken: string): Promise<Reply> {
  return call(base, 'POST', '/v1/token', {
    form: { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'app' },
  });
}

export interface CookieSession {
  /** The cookie's value. */
  readonly cookie: string;
  readonly csrfToken: string;
  readonly sessionId: string;
  readonly expiresAt: number;
}

export async function cookieLogin(base: string, email: string): Promise<CookieSession> {
  const reply = await call(base, 'POST', '/v1/session', {
    json: { email, password: PASSWORD },
  });
  assert.equal(reply.status, 200, `cookie login: ${reply.text}`);
  const cookie = /(?:^|[\s,])lk_session=([^;]+)/.exec(reply.headers.get('set-cookie') ?? '')?.[1];
  assert.ok(cookie, 'the login sets the session cookie');
  const session = reply.body['session'] as { id: string; expiresAt: string };
  return {
    cookie,
    csrfToken: reply.body['csrfToken'] as string,
    sessionId: session.id,
    expiresAt: Date.parse(session.expiresAt),
  };
}

/** The claims of a JWT, unverified (the test only reads what it was given). */
export function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<
    string,
    unknown
  >;
}

export function headerOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as Record<
    string,
    unknown
  >;
}

/**
 * A 5xx must be a generic problem+json without internals: never a 500, never a stack trace or a
 * driver message. Returns the reply for chaining.
 */
export function assertNoInternals(reply: Reply, what: string): Reply {
  assert.notEqual(reply.status, 500, `${what}: 500 ${reply.text}`);
  if (reply.status >= 500) {
    assert.equal(reply.status, 503, `${what}: ${reply.status} ${reply.text}`);
    assert.match(reply.headers.get('content-type') ?? '', /^application\/problem\+json/, what);
    assert.equal(reply.body['code'], 'service_unavailable', `${what}: ${reply.text}`);
  }
  assert.doesNotMatch(
    reply.text,
    /\n\s+at |\.[jt]s:\d+|node_modules|ECONN|terminating connection/i,
    what,
  );
  return reply;
}

/**
 * Polls `probe` every `intervalMs` until it returns true; returns how long that took. Fails after
 * `timeoutMs` with `what`.
 */
export async function eventually(
  what: string,
  probe: () => Promise<boolean>,
  { timeoutMs = 5000, intervalMs = 50 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await probe()) return Date.now() - started;
    if (Date.now() - started > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await sleep(intervalMs);
  }
}

// --- refresh families in the database ---------------------------------------------------------

export interface FamilyState {
  readonly sessionId: string;
  readonly revoked: boolean;
  /** Refresh tokens of the family not yet rotated: exactly one while the family lives. */
  readonly current: number;
  readonly total: number;
  /** Rotated tokens whose successor row is missing: a half-done rotation. */
  readonly dangling: number;
}

/** What the database holds for each of these sessions' refresh families. */
export async function familyStates(
  schema: string,
  sessionIds: readonly string[],
): Promise<FamilyState[]> {
  const rows = await queryTestDatabase<{
    id: string;
    revoked: boolean;
    current: string;
    total: string;
    dangling: string;
  }>(
    `select s.id,
            s.revoked_at is not null as revoked,
            count(t.token_hash) filter (where t.rotated_at is null) as current,
            count(t.token_hash) as total,
            count(t.token_hash) filter (
              where t.rotated_at is not null and not exists (
                select 1 from refresh_tokens n
                 where n.token_hash = t.successor_hash and n.session_id = t.session_id)
            ) as dangling
       from sessions s
       left join refresh_tokens t on t.session_id = s.id
      where s.id = any($1)
      group by s.id, s.revoked_at`,
    [sessionIds],
    schema,
  );
  return rows.map((row) => ({
    sessionId: row.id,
    revoked: row.revoked,
    current: Number(row.current),
    total: Number(row.total),
    dangling: Number(row.dangling),
  }));
}

/** A live family has exactly one current token and no half-done rotation; a revoked one none. */
export function assertFamilyConsistent(state: FamilyState): void {
  if (state.revoked) {
    assert.equal(state.total, 0, `revoked family ${state.sessionId} still has refresh tokens`);
  } else {
    assert.equal(state.current, 1, `family ${state.sessionId}: ${state.current} current tokens`);
    assert.equal(state.dangling, 0, `family ${state.sessionId}: a rotation without its successor`);
  }
}
