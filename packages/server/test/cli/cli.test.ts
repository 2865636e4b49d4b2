// The `latchkey` command as an operator runs it: a real process, configured by environment.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { verify } from '@node-rs/argon2';
import { openSqliteStorage } from '../../src/adapters/sql/sqlite.js';
import { PASSWORD } from '../support/harness.js';

// Compiled, this file is dist/test/cli/cli.test.js; the bin is at the package root.
const BIN = fileURLToPath(new URL('../../../bin/latchkey.js', import.meta.url));

interface Outcome {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment with no LATCHKEY_* variable of the caller leaking in. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('LATCHKEY_')) env[key] = value;
  }
  return { ...env, LATCHKEY_LOG_LEVEL: 'silent', ...extra };
}

function latchkey(
  args: readonly string[],
  env: Record<string, string>,
  stdin = '',
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: cleanEnv(env) });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address.port;
}

describe('latchkey CLI', () => {
  let root: string;
  before(async () => {
    assert.ok(existsSync(BIN), `no bin at ${BIN}`);
    root = await mkdtemp(join(tmpdir(), 'latchkey-cli-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  let dirCounter = 0;
  const freshDataDir = () => join(root, `data-${++dirCounter}`);

  async function withStorage<T>(
    dataDir: string,
    use: (storage: Awaited<ReturnType<typeof openSqliteStorage>>) => Promise<T>,
  ): Promise<T> {
    const storage = await openSqliteStorage({ dataDir, migrate: false });
    try {
      return await use(storage);
    } finally {
      await storage.close();
    }
  }

  it('migrate creates and migrates the database, exit 0', async () => {
    const dataDir = freshDataDir();
    const outcome = await latchkey(['migrate'], { LATCHKEY_DATA_DIR: dataDir });
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.ok(existsSync(join(dataDir, 'latchkey.db')));
    // Migrated: queries work without migrating again.
    assert.deepEqual(await withStorage(dataDir, (s) => s.listUsers({ limit: 10 })), []);
    const again = await latchkey(['migrate'], { LATCHKEY_DATA_DIR: dataDir });
    assert.equal(again.code, 0, again.stderr);
  });

  describe('users create', () => {
    let dir: string;
    before(async () => {
      dir = freshDataDir();
      assert.equal((await latchkey(['migrate'], { LATCHKEY_DATA_DIR: dir })).code, 0);
    });

    it('creates an admin with the password from standard input (first line only)', async () => {
      const outcome = await latchkey(
        ['users', 'create', '--email', ' Root@Example.TEST ', '--role', 'admin'],
        { LATCHKEY_DATA_DIR: dir },
        `${PASSWORD}\n`,
      );
      assert.equal(outcome.code, 0, outcome.stderr);
      assert.equal(outcome.stdout.includes(PASSWORD), false);
      const user = await withStorage(dir, (s) => s.findUserByEmail('root@example.test'));
      assert.ok(user, 'user stored under the normalised email');
      assert.deepEqual(user.roles, ['admin']);
      assert.equal(user.status, 'active');
      assert.ok(outcome.stdout.includes(user.id));
      assert.match(user.passwordHash, /^\$argon2id\$/);
      assert.equal(await verify(user.passwordHash, PASSWORD), true);
      assert.equal(await verify(user.passwordHash, `${PASSWORD}\n`), false);
    });

    it('creates a user without roles when no --role is given', async () => {
      const outcome = await latchkey(
        ['users', 'create', '--email', 'plain@example.test'],
        { LATCHKEY_DATA_DIR: dir },
        PASSWORD,
      );
      assert.equal(outcome.code, 0, outcome.stderr);
      const user = await withStorage(dir, (s) => s.findUserByEmail('plain@example.test'));
      assert.deepEqual(user?.roles, []);
    });

    it('refuses a weak password with the reason, and stores nothing', async () => {
      for (const password of ['short', 'PassWordPassWord']) {
        const outcome = await latchkey(
          ['users', 'create', '--email', 'weak@example.test', '--role', 'admin'],
          { LATCHKEY_DATA_DIR: dir },
          `${password}\n`,
        );
        assert.notEqual(outcome.code, 0);
        assert.match(outcome.stderr, /password/);
        assert.match(outcome.stderr, /at least 15|common/);
        assert.equal(outcome.stderr.includes(password), false);
        assert.doesNotMatch(outcome.stderr, /\n\s+at /, 'no stack trace');
      }
      assert.equal(await withStorage(dir, (s) => s.findUserByEmail('weak@example.test')), null);
    });

    it('refuses an email that is taken or invalid, and a missing --email', async () => {
      const taken = await latchkey(
        ['users', 'create', '--email', 'ROOT@example.test'],
        { LATCHKEY_DATA_DIR: dir },
        PASSWORD,
      );
      assert.notEqual(taken.code, 0);
      assert.match(taken.stderr, /already exists/);
      const invalid = await latchkey(
        ['users', 'create', '--email', 'nobody'],
        { LATCHKEY_DATA_DIR: dir },
        PASSWORD,
      );
      assert.notEqual(invalid.code, 0);
      assert.match(invalid.stderr, /email/);
      const missing = await latchkey(['users', 'create'], { LATCHKEY_DATA_DIR: dir }, PASSWORD);
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /--email/);
      const users = await withStorage(dir, (s) => s.listUsers({ limit: 10 }));
      assert.equal(users.length, 2);
    });
  });

  it('keys rotate adds a signing key and retires the previous one, exit 0', async () => {
    const dataDir = freshDataDir();
    assert.equal((await latchkey(['migrate'], { LATCHKEY_DATA_DIR: dataDir })).code, 0);
    const first = await latchkey(['keys', 'rotate'], { LATCHKEY_DATA_DIR: dataDir });
    assert.equal(first.code, 0, first.stderr);
    const before = await withStorage(dataDir, (s) => s.listSigningKeys());
    assert.ok(before.length >= 1);

    const outcome = await latchkey(['keys', 'rotate'], { LATCHKEY_DATA_DIR: dataDir });
    assert.equal(outcome.code, 0, outcome.stderr);
    const keys = await withStorage(dataDir, (s) => s.listSigningKeys());
    assert.equal(keys.length, before.length + 1);
    const added = keys.find((k) => !before.some((b) => b.kid === k.kid));
    assert.ok(added);
    assert.equal(added.retiredAt, null);
    assert.deepEqual(
      keys.filter((k) => k.retiredAt === null).map((k) => k.kid),
      [added.kid],
    );
    assert.ok(outcome.stdout.includes(added.kid));
    assert.equal(outcome.stdout.includes(added.privateJwk), false);
    const audit = await withStorage(dataDir, (s) =>
      s.listAudit({ type: 'key_rotated', limit: 10 }),
    );
    assert.equal(audit.length, 2);
    assert.equal(audit[0]?.detail['kid'], added.kid);
  });

  describe('a bad configuration', () => {
    const cases: { name: string; file?: unknown; env?: Record<string, string>; key: string }[] = [
      {
        name: 'an access TTL over the limit',
        file: { tokens: { accessTtl: '2h' } },
        key: 'tokens.accessTtl',
      },
      { name: 'an unknown key', file: { tokens: { acessTtl: '5m' } }, key: 'tokens.acessTtl' },
      {
        name: 'HS256 with a short secret',
        file: { tokens: { algorithm: 'HS256', hs256Secret: 'too-short-secret' } },
        key: 'tokens.hs256Secret',
      },
      {
        name: 'HS256 without a secret',
        file: { tokens: { algorithm: 'HS256' } },
        key: 'tokens.hs256Secret',
      },
      { name: 'a bad port from the environment', env: { LATCHKEY_PORT: 'eighty' }, key: 'port' },
    ];

    for (const { name, file, env, key } of cases) {
      it(`stops with an error naming the key: ${name}`, async () => {
        const dataDir = freshDataDir();
        const vars: Record<string, string> = { LATCHKEY_DATA_DIR: dataDir, ...env };
        if (file !== undefined) {
          const path = join(root, `config-${dirCounter}.json`);
          await writeFile(path, JSON.stringify(file));
          vars['LATCHKEY_CONFIG'] = path;
        }
        for (const command of [['migrate'], ['serve']]) {
          const outcome = await latchkey(command, vars);
          assert.notEqual(outcome.code, 0, `${command[0]} accepted it`);
          assert.ok(
            outcome.stderr.includes(`${key}:`) || outcome.stderr.includes(`${key} (`),
            `stderr does not name ${key}:\n${outcome.stderr}`,
          );
          assert.doesNotMatch(outcome.stderr, /\n\s+at /, 'no stack trace');
          if (file !== undefined && key === 'tokens.hs256Secret') {
            assert.equal(outcome.stderr.includes('too-short-secret'), false, 'secret echoed');
          }
        }
        // Nothing was started or written.
        assert.equal(existsSync(join(dataDir, 'latchkey.db')), false);
      });
    }
  });

  it('serve answers /healthz and exits on SIGTERM', async () => {
    const dataDir = freshDataDir();
    const port = await freePort();
    const child = spawn(process.execPath, [BIN, 'serve'], {
      env: cleanEnv({ LATCHKEY_DATA_DIR: dataDir, LATCHKEY_PORT: String(port) }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.resume();
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    try {
      let health: Response | null = null;
      for (let attempt = 0; attempt < 200 && health === null; attempt++) {
        assert.equal(child.exitCode, null, `serve exited early: ${stderr}`);
        health = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null);
        if (health === null) await delay(50);
      }
      assert.ok(health, `serve never answered: ${stderr}`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: 'ok' });
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      assert.equal(ready.status, 200);
      const metadata = await fetch(
        `http://127.0.0.1:${port}/.well-known/oauth-authorization-server`,
      );
      assert.equal(
        ((await metadata.json()) as { issuer: string }).issuer,
        `http://127.0.0.1:${port}`,
      );
    } finally {
      child.kill('SIGTERM');
    }
    const { code, signal } = await exited;
    assert.equal(signal, null, 'exited by itself, not killed by the signal');
    assert.equal(code, 0, stderr);
    await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`));
  });
});
