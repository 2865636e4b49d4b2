import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';
import type { Env } from '../../src/config/load.js';
import { ConfigError, loadConfig, parseDuration, validateConfig } from '../../src/config/load.js';
import type { LatchkeyConfig } from '../../src/config/types.js';

// node:test returns promises from describe/it that settle when the test has run; the runner
// awaits them itself, hence `void`.

const SECRET = 'x'.repeat(32);

/** The problem lines of the ConfigError that `file` (plus `env`) must cause. */
function problemsOf(file: unknown, env: Env = {}): readonly string[] {
  try {
    validateConfig(file, env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return error.problems;
  }
  assert.fail('expected the configuration to be refused');
}

/** Asserts that `file` is refused with a problem reported under `key`. */
function assertRefused(file: unknown, key: string, env: Env = {}): void {
  const problems = problemsOf(file, env);
  assert.ok(
    problems.some((line) => line.startsWith(`${key}: `) || line.startsWith(`${key} (`)),
    `expected a problem under ${key}, got:\n${problems.join('\n')}`,
  );
}

void describe('parseDuration', () => {
  void it('reads seconds and single-unit strings', () => {
    assert.equal(parseDuration(0), 0);
    assert.equal(parseDuration(90), 90);
    assert.equal(parseDuration('10'), 10);
    assert.equal(parseDuration('30s'), 30);
    assert.equal(parseDuration('15m'), 900);
    assert.equal(parseDuration('1h'), 3600);
    assert.equal(parseDuration('7d'), 604_800);
    assert.equal(parseDuration('2w'), 1_209_600);
    assert.equal(parseDuration('0s'), 0);
  });

  void it('refuses anything else', () => {
    for (const value of [
      -1,
      1.5,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      '',
      ' 5m',
      '5 m',
      '1h30m',
      '1.5h',
      '-5s',
      '5M',
      '1y',
      'm',
      '99999999999999999999',
      '9999999999999999w',
      null,
      true,
      [],
      {},
    ]) {
      assert.equal(parseDuration(value), null, `parseDuration(${JSON.stringify(value)})`);
    }
  });
});

void describe('defaults', () => {
  const config = validateConfig({});

  void it('serve on loopback with SQLite, no Redis and a derived http issuer', () => {
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.port, 8080);
    assert.equal(config.issuer, 'http://127.0.0.1:8080');
    assert.equal(config.dataDir, './data');
    assert.equal(config.databaseUrl, null);
    assert.equal(config.redisUrl, null);
    assert.equal(config.logLevel, 'info');
    assert.deepEqual(config.cookies, { sameSite: 'lax', secure: false });
    assert.deepEqual(config.resourceServers, []);
  });

  void it('have the documented lifetimes in seconds', () => {
    assert.deepEqual(config.session, {
      idleTtl: 86_400,
      absoluteTtl: 604_800,
      maxPerUser: null,
      onLimit: 'evictOldest',
    });
    assert.deepEqual(config.tokens, {
      algorithm: 'EdDSA',
      hs256Secret: null,
      accessTtl: 900,
      refreshIdleTtl: 604_800,
      refreshAbsoluteTtl: 2_592_000,
      refreshReuseGrace: 10,
    });
    assert.equal(config.keys.reloadInterval, 5);
  });

  void it('hash passwords with the OWASP argon2id minimum, leaving a core free', () => {
    assert.deepEqual(config.passwords, {
      minLength: 15,
      maxLength: 128,
      hashConcurrency: Math.max(1, availableParallelism() - 1),
      argon2: { memoryCost: 19_456, timeCost: 2, parallelism: 1 },
    });
  });

  void it('provide the web, app and api clients', () => {
    const common = {
      audience: 'http://127.0.0.1:8080',
      allowedOrigins: [],
      accessTtl: 900,
      singleSession: false,
    };
    assert.deepEqual(config.clients, [
      { id: 'web', strategy: 'session', ...common },
      { id: 'app', strategy: 'hybrid', ...common },
      { id: 'api', strategy: 'jwt', ...common },
    ]);
  });

  void it('apply when the file leaves a group partly filled', () => {
    const partial = validateConfig({ tokens: { accessTtl: '5m' }, passwords: { argon2: {} } });
    assert.equal(partial.tokens.accessTtl, 300);
    assert.equal(partial.tokens.refreshIdleTtl, 604_800);
    assert.equal(partial.passwords.argon2.memoryCost, 19_456);
    assert.equal(partial.clients[0]?.accessTtl, 300);
  });
});

void describe('file values', () => {
  void it('are used as given, durations converted to seconds', () => {
    const config = validateConfig({
      issuer: 'https://auth.example.com',
      host: '0.0.0.0',
      port: 0,
      dataDir: '/var/lib/latchkey',
      databaseUrl: 'postgres://latchkey@db/latchkey',
      databaseStatementTimeout: '1m',
      redisUrl: 'rediss://cache:6380/0',
      logLevel: 'warn',
      cookies: { sameSite: 'strict' },
      session: { idleTtl: '30m', absoluteTtl: 3600, maxPerUser: 5, onLimit: 'deny' },
      tokens: {
        algorithm: 'ES256',
        accessTtl: '1h',
        refreshIdleTtl: '1d',
        refreshAbsoluteTtl: '2w',
        refreshReuseGrace: 0,
      },
      passwords: {
        minLength: 8,
        maxLength: 64,
        hashConcurrency: 3,
        argon2: { memoryCost: 65_536, timeCost: 3, parallelism: 4 },
      },
      keys: { reloadInterval: '1m' },
      resourceServers: [{ id: 'billing', secret: SECRET }],
    });
    assert.equal(config.issuer, 'https://auth.example.com');
    assert.equal(config.port, 0);
    assert.equal(config.databaseStatementTimeout, 60);
    assert.deepEqual(config.cookies, { sameSite: 'strict', secure: true });
    assert.deepEqual(config.session, {
      idleTtl: 1800,
      absoluteTtl: 3600,
      maxPerUser: 5,
      onLimit: 'deny',
    });
    assert.equal(config.tokens.refreshAbsoluteTtl, 1_209_600);
    assert.equal(config.tokens.refreshReuseGrace, 0);
    assert.equal(config.passwords.argon2.parallelism, 4);
    assert.equal(config.keys.reloadInterval, 60);
    assert.deepEqual(config.resourceServers, [{ id: 'billing', secret: SECRET }]);
    assert.equal(config.clients[0]?.audience, 'https://auth.example.com');
  });

  void it('treat null as "use the documented fallback"', () => {
    const config = validateConfig({
      issuer: null,
      databaseUrl: null,
      session: { maxPerUser: null },
    });
    assert.equal(config.issuer, 'http://127.0.0.1:8080');
    assert.equal(config.databaseUrl, null);
    assert.equal(config.session.maxPerUser, null);
  });

  void it('do not need refresh idle and absolute lifetimes to be ordered', () => {
    const config = validateConfig({
      session: { idleTtl: '8d', absoluteTtl: '7d' },
      tokens: { refreshIdleTtl: '31d', refreshAbsoluteTtl: '30d' },
    });
    assert.equal(config.session.idleTtl, 691_200);
  });

  void it('accept an issuer with a path, and loopback http issuers', () => {
    assert.equal(
      validateConfig({ issuer: 'https://example.com/auth' }).issuer,
      'https://example.com/auth',
    );
    for (const issuer of ['http://localhost:3000', 'http://127.0.0.1', 'http://[::1]:8080']) {
      assert.equal(validateConfig({ issuer }).issuer, issuer);
    }
  });

  void it('derive a bracketed issuer for an IPv6 loopback host', () => {
    assert.equal(validateConfig({ host: '::1', port: 9000 }).issuer, 'http://[::1]:9000');
  });
});

void describe('clients', () => {
  void it('replace the defaults and fill in audience, origins, lifetime and singleSession', () => {
    const config = validateConfig({
      issuer: 'https://auth.example.com',
      tokens: { accessTtl: '10m' },
      clients: [
        { id: 'mobile', strategy: 'jwt' },
        {
          id: 'spa.v2',
          strategy: 'hybrid',
          audience: 'https://api.example.com',
          allowedOrigins: ['https://app.example.com', 'http://localhost:5173'],
          accessTtl: '5m',
          singleSession: true,
        },
      ],
    });
    assert.deepEqual(config.clients, [
      {
        id: 'mobile',
        strategy: 'jwt',
        audience: 'https://auth.example.com',
        allowedOrigins: [],
        accessTtl: 600,
        singleSession: false,
      },
      {
        id: 'spa.v2',
        strategy: 'hybrid',
        audience: 'https://api.example.com',
        allowedOrigins: ['https://app.example.com', 'http://localhost:5173'],
        accessTtl: 300,
        singleSession: true,
      },
    ]);
  });

  void it('refuse unknown keys, strategies, bad ids, duplicates and non-origins', () => {
    assertRefused(
      { clients: [{ id: 'web', strategy: 'session', secret: 'x' }] },
      'clients[0].secret',
    );
    assertRefused({ clients: [{ id: 'web', strategy: 'cookie' }] }, 'clients[0].strategy');
    assertRefused({ clients: [{ strategy: 'jwt' }] }, 'clients[0].id');
    assertRefused({ clients: [{ id: 'web' }] }, 'clients[0].strategy');
    assertRefused({ clients: [{ id: '', strategy: 'jwt' }] }, 'clients[0].id');
    assertRefused({ clients: [{ id: 'a b', strategy: 'jwt' }] }, 'clients[0].id');
    assertRefused({ clients: [{ id: 'a'.repeat(65), strategy: 'jwt' }] }, 'clients[0].id');
    assertRefused(
      {
        clients: [
          { id: 'a', strategy: 'jwt' },
          { id: 'b', strategy: 'jwt' },
          { id: 'a', strategy: 'session' },
        ],
      },
      'clients[2].id',
    );
    assertRefused({ clients: [] }, 'clients');
    assertRefused({ clients: {} }, 'clients');
    assertRefused({ clients: ['web'] }, 'clients[0]');
    assertRefused(
      { clients: [{ id: 'w', strategy: 'jwt', singleSession: 'yes' }] },
      'clients[0].singleSession',
    );
    assertRefused({ clients: [{ id: 'w', strategy: 'jwt', audience: '' }] }, 'clients[0].audience');
    for (const origin of [
      'https://app.example.com/',
      'https://app.example.com/path',
      'https://APP.example.com',
      'https://app.example.com:443',
      'app.example.com',
      'null',
      '*',
    ]) {
      assertRefused(
        { clients: [{ id: 'w', strategy: 'jwt', allowedOrigins: [origin] }] },
        'clients[0].allowedOrigins[0]',
      );
    }
  });

  void it('refuse an access-token lifetime of zero or over an hour', () => {
    for (const accessTtl of [0, 3601, '2h', 'soon']) {
      assertRefused({ clients: [{ id: 'w', strategy: 'jwt', accessTtl }] }, 'clients[0].accessTtl');
    }
    assert.equal(
      validateConfig({ clients: [{ id: 'w', strategy: 'jwt', accessTtl: '1h' }] }).clients[0]
        ?.accessTtl,
      3600,
    );
  });
});

void describe('refusals', () => {
  void it('refuse a file that is not an object', () => {
    for (const file of [null, [], 'config', 42]) assertRefused(file, 'configuration');
  });

  void it('refuse unknown keys at every level', () => {
    assertRefused({ prot: 8080 }, 'prot');
    assertRefused({ tokens: { accesTtl: '5m' } }, 'tokens.accesTtl');
    assertRefused({ passwords: { argon2: { memory: 65_536 } } }, 'passwords.argon2.memory');
    assertRefused(
      { resourceServers: [{ id: 'r', secret: SECRET, name: 'x' }] },
      'resourceServers[0].name',
    );
    assertRefused(JSON.parse('{"__proto__": {"port": 1}}'), '__proto__');
  });

  void it('refuse wrong types', () => {
    assertRefused({ port: '8080' }, 'port');
    assertRefused({ host: 1 }, 'host');
    assertRefused({ dataDir: '' }, 'dataDir');
    assertRefused({ session: 'long' }, 'session');
    assertRefused({ session: null }, 'session');
    assertRefused({ session: { maxPerUser: '5' } }, 'session.maxPerUser');
    assertRefused({ tokens: { hs256Secret: 5 } }, 'tokens.hs256Secret');
  });

  void it('refuse values outside their sets', () => {
    assertRefused({ logLevel: 'verbose' }, 'logLevel');
    assertRefused({ cookies: { sameSite: 'none' } }, 'cookies.sameSite');
    assertRefused({ session: { onLimit: 'evictNewest' } }, 'session.onLimit');
    assertRefused({ tokens: { algorithm: 'none' } }, 'tokens.algorithm');
    assertRefused({ tokens: { algorithm: 'HS512' } }, 'tokens.algorithm');
  });

  void it('refuse ports outside 0..65535', () => {
    for (const port of [-1, 65_536, 80.5]) assertRefused({ port }, 'port');
  });

  void it('refuse a host that cannot be a listen address', () => {
    for (const host of ['[::1]', 'http://localhost', 'localhost:8080', 'a/b']) {
      assertRefused({ host, issuer: 'https://auth.example.com' }, 'host');
    }
  });

  void it('refuse zero, negative or malformed lifetimes, but allow a zero reuse grace', () => {
    for (const key of ['idleTtl', 'absoluteTtl']) {
      assertRefused({ session: { [key]: 0 } }, `session.${key}`);
      assertRefused({ session: { [key]: '1x' } }, `session.${key}`);
    }
    for (const key of ['accessTtl', 'refreshIdleTtl', 'refreshAbsoluteTtl']) {
      assertRefused({ tokens: { [key]: 0 } }, `tokens.${key}`);
      assertRefused({ tokens: { [key]: -5 } }, `tokens.${key}`);
    }
    assertRefused({ tokens: { refreshReuseGrace: -1 } }, 'tokens.refreshReuseGrace');
    assertRefused({ keys: { reloadInterval: 0 } }, 'keys.reloadInterval');
    assertRefused({ keys: { reloadInterval: '4w' } }, 'keys.reloadInterval');
    assertRefused({ session: { absoluteTtl: '1000w' } }, 'session.absoluteTtl');
  });

  void it('refuse an access-token lifetime over an hour', () => {
    assertRefused({ tokens: { accessTtl: 3601 } }, 'tokens.accessTtl');
    assertRefused({ tokens: { accessTtl: '1d' } }, 'tokens.accessTtl');
    assert.equal(validateConfig({ tokens: { accessTtl: 3600 } }).tokens.accessTtl, 3600);
  });

  void it('refuse a session limit that is not a positive integer', () => {
    for (const maxPerUser of [0, -1, 1.5])
      assertRefused({ session: { maxPerUser } }, 'session.maxPerUser');
  });

  void it('require a 32-byte secret for HS256 only', () => {
    assertRefused({ tokens: { algorithm: 'HS256' } }, 'tokens.hs256Secret');
    assertRefused(
      { tokens: { algorithm: 'HS256', hs256Secret: 'x'.repeat(31) } },
      'tokens.hs256Secret',
    );
    // 11 three-byte characters: 33 bytes, though only 11 UTF-16 units.
    const config = validateConfig({ tokens: { algorithm: 'HS256', hs256Secret: '€'.repeat(11) } });
    assert.equal(config.tokens.hs256Secret, '€'.repeat(11));
    assert.equal(validateConfig({ tokens: { hs256Secret: 'short' } }).tokens.hs256Secret, 'short');
  });

  void it('refuse duplicate resource servers and short secrets', () => {
    assertRefused(
      { resourceServers: [{ id: 'r', secret: 'x'.repeat(31) }] },
      'resourceServers[0].secret',
    );
    assertRefused({ resourceServers: [{ id: 'r' }] }, 'resourceServers[0].secret');
    assertRefused({ resourceServers: [{ id: 'r r', secret: SECRET }] }, 'resourceServers[0].id');
    assertRefused(
      {
        resourceServers: [
          { id: 'r', secret: SECRET },
          { id: 'r', secret: SECRET },
        ],
      },
      'resourceServers[1].id',
    );
  });

  void it('refuse password lengths outside the allowed bounds', () => {
    assertRefused({ passwords: { minLength: 7 } }, 'passwords.minLength');
    assertRefused({ passwords: { maxLength: 63 } }, 'passwords.maxLength');
    assertRefused({ passwords: { maxLength: 4097 } }, 'passwords.maxLength');
    assertRefused({ passwords: { minLength: 100, maxLength: 64 } }, 'passwords.maxLength');
    assertRefused({ passwords: { hashConcurrency: 0 } }, 'passwords.hashConcurrency');
  });

  void it('refuse argon2 parameters weaker than the OWASP minimum', () => {
    assertRefused({ passwords: { argon2: { memoryCost: 19_455 } } }, 'passwords.argon2.memoryCost');
    assertRefused({ passwords: { argon2: { timeCost: 1 } } }, 'passwords.argon2.timeCost');
    assertRefused({ passwords: { argon2: { parallelism: 0 } } }, 'passwords.argon2.parallelism');
  });

  void it('refuse database and Redis URLs of the wrong kind', () => {
    assert.equal(
      validateConfig({ databaseUrl: 'postgresql://h/db' }).databaseUrl,
      'postgresql://h/db',
    );
    assert.equal(validateConfig({ redisUrl: 'redis://h:6379' }).redisUrl, 'redis://h:6379');
    for (const databaseUrl of ['mysql://h/db', 'sqlite:./data/db', 'postgres', '']) {
      assertRefused({ databaseUrl }, 'databaseUrl');
    }
    for (const redisUrl of ['http://h:6379', 'h:6379', '']) assertRefused({ redisUrl }, 'redisUrl');
  });

  void it('bound the database statement timeout, 0 meaning none', () => {
    assert.equal(validateConfig({}).databaseStatementTimeout, 5);
    assert.equal(validateConfig({ databaseStatementTimeout: 0 }).databaseStatementTimeout, 0);
    for (const databaseStatementTimeout of [-1, '2h', '500ms', 1.5]) {
      assertRefused({ databaseStatementTimeout }, 'databaseStatementTimeout');
    }
  });

  void it('never quote values back, since they may be secrets', () => {
    const message = problemsOf({
      databaseUrl: 'mysql://root:hunter2-db@h/db',
      tokens: { algorithm: 'HS256', hs256Secret: 'hunter2-jwt' },
      keys: { encryptionSecret: 'hunter2-kek' },
      resourceServers: [{ id: 'r', secret: 'hunter2-rs' }],
    }).join('\n');
    assert.doesNotMatch(message, /hunter2/);
  });

  void it('collect every problem, one per line', () => {
    const file = { port: 'x', logLevel: 'loud', tokens: { accessTtl: '2h' }, extra: true };
    assert.deepEqual(
      problemsOf(file).map((line) => line.slice(0, line.indexOf(':'))),
      ['extra', 'port', 'logLevel', 'tokens.accessTtl'],
    );
    assert.throws(
      () => validateConfig(file),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.message.split('\n').length === 5 &&
        /^ {2}tokens\.accessTtl: /m.test(error.message),
    );
  });
  void it('reports checks across keys alongside other problems in the same group', () => {
    const problems = problemsOf({
      tokens: { algorithm: 'HS256', accessTtl: '2h' },
      passwords: { minLength: 100, maxLength: 64, argon2: { timeCost: 1 } },
    });
    assert.deepEqual(problems.map((line) => line.slice(0, line.indexOf(':'))).sort(), [
      'passwords.argon2.timeCost',
      'passwords.maxLength',
      'tokens.accessTtl',
      'tokens.hs256Secret',
    ]);
  });
});

void describe('issuer', () => {
  void it('refuses malformed issuers, naming the problem', () => {
    const cases: Array<[string, RegExp]> = [
      ['auth.example.com', /absolute/],
      ['ftp://auth.example.com', /https/],
      ['https://user:pw@auth.example.com', /credentials/],
      ['https://auth.example.com?tenant=1', /query/],
      ['https://auth.example.com?', /query/],
      ['https://auth.example.com#x', /fragment/],
      ['https://auth.example.com/', /must not end with "\/"/],
      ['https://auth.example.com/auth/', /must not end with "\/"/],
      ['https://Auth.Example.com', /canonical form: "https:\/\/auth\.example\.com"/],
      ['https://auth.example.com:443', /canonical/],
      ['http://auth.example.com', /https/],
      ['http://10.0.0.1:8080', /https/],
      ['', /non-empty/],
    ];
    for (const [issuer, problem] of cases) {
      const problems = problemsOf({ issuer });
      assert.equal(problems.length, 1, issuer);
      assert.match(problems[0] ?? '', /^issuer: /, issuer);
      assert.match(problems[0] ?? '', problem, issuer);
    }
  });

  void it('must be set explicitly when the host is not loopback', () => {
    const problems = problemsOf({ host: '0.0.0.0' });
    assert.equal(problems.length, 1);
    assert.match(
      problems[0] ?? '',
      /^issuer: is required: .*"http:\/\/0\.0\.0\.0:8080" must use https/,
    );
    assert.equal(
      validateConfig({ host: '0.0.0.0', issuer: 'https://auth.example.com' }).issuer,
      'https://auth.example.com',
    );
  });

  void it('must be set when the host cannot form a URL', () => {
    assertRefused({ host: '999.1.1.1' }, 'issuer');
    assert.equal(
      validateConfig({ host: '999.1.1.1', issuer: 'https://a.example' }).host,
      '999.1.1.1',
    );
  });

  void it('is reported alongside unrelated problems', () => {
    const problems = problemsOf({ host: '0.0.0.0', logLevel: 'loud' });
    assert.equal(problems.length, 2);
  });

  void it('marks cookies secure exactly when https', () => {
    assert.equal(validateConfig({ issuer: 'https://a.example' }).cookies.secure, true);
    assert.equal(validateConfig({ issuer: 'http://localhost:8080' }).cookies.secure, false);
  });
});

void describe('environment overrides', () => {
  void it('override the file, durations and numbers parsed as for the file', () => {
    const config = validateConfig(
      { port: 1, host: 'localhost', tokens: { algorithm: 'HS256' } },
      {
        LATCHKEY_PORT: '9090',
        LATCHKEY_HOST: '0.0.0.0',
        LATCHKEY_DATA_DIR: '/srv/data',
        LATCHKEY_ISSUER: 'https://id.example.org',
        LATCHKEY_DATABASE_URL: 'postgres://u@db/latchkey',
        LATCHKEY_DATABASE_STATEMENT_TIMEOUT: '30s',
        LATCHKEY_REDIS_URL: 'redis://cache',
        LATCHKEY_LOG_LEVEL: 'debug',
        LATCHKEY_HS256_SECRET: SECRET,
        LATCHKEY_KEY_ENCRYPTION_SECRET: SECRET,
      },
    );
    assert.equal(config.port, 9090);
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.dataDir, '/srv/data');
    assert.equal(config.issuer, 'https://id.example.org');
    assert.equal(config.databaseUrl, 'postgres://u@db/latchkey');
    assert.equal(config.databaseStatementTimeout, 30);
    assert.equal(config.redisUrl, 'redis://cache');
    assert.equal(config.logLevel, 'debug');
    assert.equal(config.tokens.hs256Secret, SECRET);
    assert.equal(config.keys.encryptionSecret, SECRET);
    assert.equal(config.tokens.algorithm, 'HS256');
  });

  void it('derive the default issuer from overridden host and port', () => {
    assert.equal(validateConfig({}, { LATCHKEY_PORT: '0' }).issuer, 'http://127.0.0.1:0');
  });

  void it('treat empty values as unset', () => {
    const config = validateConfig(
      { databaseUrl: 'postgres://h/db' },
      { LATCHKEY_DATABASE_URL: '', LATCHKEY_PORT: '' },
    );
    assert.equal(config.databaseUrl, 'postgres://h/db');
    assert.equal(config.port, 8080);
  });

  void it('are named by variable when refused', () => {
    for (const [name, value, key] of [
      ['LATCHKEY_PORT', 'http', 'port'],
      ['LATCHKEY_PORT', '70000', 'port'],
      ['LATCHKEY_LOG_LEVEL', 'loud', 'logLevel'],
      ['LATCHKEY_ISSUER', 'http://auth.example.com', 'issuer'],
      ['LATCHKEY_REDIS_URL', 'memcached://h', 'redisUrl'],
    ] as const) {
      const problems = problemsOf({}, { [name]: value });
      assert.ok(problems[0]?.startsWith(`${key} (from ${name}): `), problems.join('\n'));
    }
    const short = problemsOf(
      { tokens: { algorithm: 'HS256' } },
      { LATCHKEY_HS256_SECRET: 'short' },
    );
    assert.ok(short[0]?.startsWith('tokens.hs256Secret (from LATCHKEY_HS256_SECRET): '));
  });

  void it('leave a wrongly typed group for validation to report', () => {
    assertRefused({ tokens: 'HS256' }, 'tokens', { LATCHKEY_HS256_SECRET: SECRET });
  });
});

void describe('loadConfig', () => {
  void it('uses defaults and the environment when LATCHKEY_CONFIG is unset', () => {
    const config = loadConfig({
      env: { LATCHKEY_PORT: '3000' },
      readFile: () => assert.fail('no file should be read'),
    });
    assert.equal(config.port, 3000);
  });

  void it('reads the JSON file named by LATCHKEY_CONFIG, byte-order mark and all', () => {
    const read: string[] = [];
    const config = loadConfig({
      env: { LATCHKEY_CONFIG: '/etc/latchkey.json', LATCHKEY_LOG_LEVEL: 'error' },
      readFile: (path) => {
        read.push(path);
        return '\uFEFF{ "port": 4000, "logLevel": "trace" }';
      },
    });
    assert.deepEqual(read, ['/etc/latchkey.json']);
    assert.equal(config.port, 4000);
    assert.equal(config.logLevel, 'error');
  });

  void it('reports an unreadable file by path and error code', () => {
    assert.throws(
      () => loadConfig({ env: { LATCHKEY_CONFIG: '/nonexistent/latchkey.json' } }),
      (error: unknown) =>
        error instanceof ConfigError &&
        /LATCHKEY_CONFIG: cannot read "\/nonexistent\/latchkey\.json" \(ENOENT\)/.test(
          error.message,
        ),
    );
  });

  void it('reports invalid JSON by position without quoting the file', () => {
    for (const text of ['{\n  "tokens": {"hs256Secret": "hunter2-secret",}\n}', '{"a": hunter2}']) {
      assert.throws(
        () => loadConfig({ env: { LATCHKEY_CONFIG: 'c.json' }, readFile: () => text }),
        (error: unknown) =>
          error instanceof ConfigError &&
          /"c\.json" is not valid JSON/.test(error.message) &&
          !error.message.includes('hunter2'),
      );
    }
    assert.throws(
      () => loadConfig({ env: { LATCHKEY_CONFIG: 'c.json' }, readFile: () => '{\n  "a": 1,\n}' }),
      /line 3, column 1/,
    );
  });
});

void describe('the returned config', () => {
  const config = validateConfig({ resourceServers: [{ id: 'r', secret: SECRET }] });

  void it('is deeply frozen', () => {
    assert.throws(() => {
      (config as { port: number }).port = 1;
    }, TypeError);
    assert.throws(() => {
      (config.tokens as { accessTtl: number }).accessTtl = 86_400;
    }, TypeError);
    assert.throws(() => {
      (config.passwords.argon2 as { memoryCost: number }).memoryCost = 1;
    }, TypeError);
    assert.throws(() => {
      (config.clients as LatchkeyConfig['clients'][number][]).push(config.clients[0]!);
    }, TypeError);
    assert.throws(() => {
      (config.clients[0]!.allowedOrigins as string[]).push('https://evil.example');
    }, TypeError);
    assert.throws(() => {
      (config.resourceServers[0] as { secret: string }).secret = 'x';
    }, TypeError);
  });

  void it('is independent of the input object', () => {
    const file = { clients: [{ id: 'w', strategy: 'jwt', allowedOrigins: ['https://a.example'] }] };
    const fresh = validateConfig(file);
    file.clients[0]!.allowedOrigins.push('https://evil.example');
    assert.deepEqual(fresh.clients[0]?.allowedOrigins, ['https://a.example']);
    assert.ok(!Object.isFrozen(file));
  });

  void it('does not share defaults between loads', () => {
    assert.notEqual(validateConfig({}).clients, validateConfig({}).clients);
  });
});
