// Sign-up: the public user shape, email normalisation and uniqueness, the password policy of
// NIST SP 800-63B-4 as API.md states it, and what a sign-up leaves in storage.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  PASSWORD,
  json,
  passwordGrant,
  startTestServer,
  uniqueEmail,
  type TestServer,
} from '../support/harness.js';

describe('POST /v1/accounts', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  function createAccount(email: string, password: string = PASSWORD) {
    return server.app.inject({
      method: 'POST',
      url: '/v1/accounts',
      headers: { 'user-agent': 'accounts-test/1.0' },
      payload: { email, password },
    });
  }

  async function userCount(): Promise<number> {
    return (await server.services.storage.listUsers({ limit: 100_000 })).length;
  }

  /** Asserts a refused sign-up: 400 `validation_failed`, and no user stored. */
  async function assertRefused(email: string, password: string): Promise<Record<string, unknown>> {
    const before = await userCount();
    const response = await createAccount(email, password);
    assert.equal(response.statusCode, 400, response.body);
    assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
    const body = json(response);
    assert.equal(body['code'], 'validation_failed');
    assert.equal(await userCount(), before);
    assert.equal(await server.services.storage.findUserByEmail(email.trim().toLowerCase()), null);
    return body;
  }

  it('answers 201 with the public user shape and nothing secret', async () => {
    const email = uniqueEmail('shape');
    const response = await createAccount(email);
    assert.equal(response.statusCode, 201);
    const body = json(response);
    assert.deepEqual(Object.keys(body), ['user']);
    const user = body['user'] as Record<string, unknown>;
    assert.deepEqual(Object.keys(user).sort(), ['createdAt', 'email', 'id', 'roles', 'status']);
    assert.equal(typeof user['id'], 'string');
    assert.ok((user['id'] as string).length > 0);
    assert.equal(user['email'], email);
    assert.deepEqual(user['roles'], []);
    assert.equal(user['status'], 'active');
    assert.equal(user['createdAt'], new Date(server.clock.now()).toISOString());
    assert.doesNotMatch(response.body, /password|hash|argon/i);
    assert.equal(response.body.includes(PASSWORD), false);
  });

  it('stores the email trimmed and lower-cased, and refuses it again in another case', async () => {
    const local = `alice-${process.pid}`;
    const first = await createAccount(`  ${local.toUpperCase()}@Example.TEST `);
    assert.equal(first.statusCode, 201, first.body);
    const user = json(first)['user'] as Record<string, unknown>;
    assert.equal(user['email'], `${local}@example.test`);

    const before = await userCount();
    const second = await createAccount(`${local}@example.test`);
    assert.equal(second.statusCode, 409);
    assert.match(String(second.headers['content-type']), /^application\/problem\+json/);
    const problem = json(second);
    assert.equal(problem['code'], 'email_taken');
    assert.equal(problem['status'], 409);
    assert.equal(await userCount(), before);
  });

  it('treats composed and decomposed accents as the same email (NFC)', async () => {
    const composed = `jos\u00e9-${process.pid}@example.test`;
    const decomposed = `jose\u0301-${process.pid}@example.test`;
    assert.notEqual(composed, decomposed);
    const first = await createAccount(decomposed);
    assert.equal(first.statusCode, 201, first.body);
    assert.equal((json(first)['user'] as Record<string, unknown>)['email'], composed);
    const second = await createAccount(composed);
    assert.equal(second.statusCode, 409);
    assert.equal(json(second)['code'], 'email_taken');
    // Upper-case composed form too.
    const third = await createAccount(`JOS\u00c9-${process.pid}@EXAMPLE.TEST`);
    assert.equal(third.statusCode, 409);
  });

  it('refuses invalid emails with 400 validation_failed', async () => {
    for (const email of [
      '',
      '   ',
      'not-an-email',
      'nobody@localhost',
      '@example.test',
      'user@',
      'two@@example.test',
      'with space@example.test',
      'tab\t@example.test',
      `${'a'.repeat(250)}@example.test`,
    ]) {
      await assertRefused(email, PASSWORD);
    }
  });

  it('lets the user log in with the email in any case and spacing', async () => {
    const email = uniqueEmail('login');
    assert.equal((await createAccount(email)).statusCode, 201);
    const pair = await passwordGrant(server, `  ${email.toUpperCase()} `);
    assert.equal(typeof pair.access_token, 'string');
  });

  describe('password policy', () => {
    // 14 and 15 code points, nothing on the common list.
    const fourteen = 'plover mugwort';
    const fifteen = 'plover mugworts';

    it('refuses 14 code points and accepts 15', async () => {
      assert.equal([...fourteen].length, 14);
      assert.equal([...fifteen].length, 15);
      const body = await assertRefused(uniqueEmail('short'), fourteen);
      assert.match(String(body['detail']), /at least 15/);
      assert.equal((await createAccount(uniqueEmail('fifteen'), fifteen)).statusCode, 201);
    });

    it('counts code points, not UTF-16 units: an emoji is one character', async () => {
      // 14 emoji are 28 UTF-16 code units: still too short.
      await assertRefused(uniqueEmail('emoji'), '\u{1F511}\u{1F6AA}'.repeat(7));
      const fifteenEmoji = '\u{1F511}\u{1F6AA}\u{1F3E0}'.repeat(5);
      assert.equal([...fifteenEmoji].length, 15);
      assert.equal((await createAccount(uniqueEmail('emoji'), fifteenEmoji)).statusCode, 201);
    });

    it('counts after NFKC: a ligature expands, a decomposed accent contracts', async () => {
      // U+FB01 "ﬁ" is one code point typed, two ("fi") after NFKC: 14 become 15.
      const ligature = '\ufb01sh and ships!';
      assert.equal([...ligature].length, 14);
      assert.equal([...ligature.normalize('NFKC')].length, 15);
      assert.equal((await createAccount(uniqueEmail('nfkc'), ligature)).statusCode, 201);

      // Two "e" + U+0301 pairs are 15 code points typed, 13 after NFKC.
      const decomposed = 'cafe\u0301 glace\u0301 nu';
      assert.equal([...decomposed].length, 15);
      assert.equal([...decomposed.normalize('NFKC')].length, 13);
      await assertRefused(uniqueEmail('nfkc'), decomposed);
    });

    it('verifies with the same normalisation it set with', async () => {
      const email = uniqueEmail('nfkc-login');
      const typed = '\ufb01sh and ships! caf\u00e9';
      assert.equal((await createAccount(email, typed)).statusCode, 201);
      // Another keyboard sends the plain letters and the decomposed accent.
      const pair = await passwordGrant(server, email, 'app', 'fish and ships! cafe\u0301');
      assert.equal(typeof pair.access_token, 'string');
    });

    it('accepts 128 code points and refuses 129', async () => {
      const long = 'tram lines over the hill at dusk, '.repeat(4);
      const max = long.slice(0, 127) + 'x';
      assert.equal([...max].length, 128);
      assert.equal((await createAccount(uniqueEmail('long'), max)).statusCode, 201);
      const body = await assertRefused(uniqueEmail('long'), max + 'y');
      assert.match(String(body['detail']), /at most 128/);
      // 128 emoji are 256 UTF-16 units and still allowed.
      const emoji = '\u{1F511}'.repeat(64) + '\u{1F6AA}'.repeat(64);
      assert.equal((await createAccount(uniqueEmail('long-emoji'), emoji)).statusCode, 201);
    });

    it('refuses a password from the shipped common list, whatever its case', async () => {
      for (const common of ['PassWordPassWord', 'QwertyUiop12345', 'Password123456789']) {
        const body = await assertRefused(uniqueEmail('common'), common);
        assert.match(String(body['detail']), /common/, common);
      }
    });

    it('has no composition rules: lower-case letters and spaces only are fine', async () => {
      const response = await createAccount(uniqueEmail('plain'), 'violet lanterns drift');
      assert.equal(response.statusCode, 201);
    });
  });

  it('stores the password only as an argon2id hash with at least the OWASP parameters', async () => {
    const email = uniqueEmail('hash');
    assert.equal((await createAccount(email)).statusCode, 201);
    const stored = await server.services.storage.findUserByEmail(email);
    assert.ok(stored);
    assert.equal(stored.passwordHash.includes(PASSWORD), false);
    const match =
      /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/.exec(
        stored.passwordHash,
      );
    assert.ok(match, `not an argon2id PHC string: ${stored.passwordHash.slice(0, 30)}`);
    assert.ok(Number(match[1]) >= 19_456, `m=${match[1]}`);
    assert.ok(Number(match[2]) >= 2, `t=${match[2]}`);
    assert.equal(Number(match[3]), 1);
  });

  it('records a signup audit event with the request context', async () => {
    const email = uniqueEmail('audit');
    const response = await createAccount(email);
    const user = json(response)['user'] as { id: string };
    const events = await server.services.storage.listAudit({
      userId: user.id,
      type: 'signup',
      limit: 10,
    });
    assert.equal(events.length, 1);
    assert.equal(events[0]?.userAgent, 'accounts-test/1.0');
    assert.equal(events[0]?.at, server.clock.now());
    assert.equal(JSON.stringify(events).includes(PASSWORD), false);
  });

  it('stores nothing and records nothing for a failed sign-up', async () => {
    const auditBefore = (await server.services.storage.listAudit({ limit: 100_000 })).length;
    const usersBefore = await userCount();
    await assertRefused(uniqueEmail('nothing'), 'too short');
    await assertRefused('not-an-email', PASSWORD);
    const taken = uniqueEmail('taken');
    assert.equal((await createAccount(taken)).statusCode, 201);
    assert.equal((await createAccount(taken.toUpperCase())).statusCode, 409);
    assert.equal(await userCount(), usersBefore + 1);
    const auditAfter = await server.services.storage.listAudit({ limit: 100_000 });
    // Only the one successful sign-up left a trace.
    assert.equal(auditAfter.length, auditBefore + 1);
    assert.equal(auditAfter[0]?.type, 'signup');
  });

  it('gives two concurrent sign-ups of one email exactly one account', async () => {
    const email = uniqueEmail('race');
    const responses = await Promise.all([
      createAccount(email),
      createAccount(email.toUpperCase()),
      createAccount(` ${email}`),
    ]);
    assert.deepEqual(responses.map((r) => r.statusCode).sort(), [201, 409, 409]);
    const users = await server.services.storage.listUsers({ email, limit: 10 });
    assert.equal(users.length, 1);
  });
});
