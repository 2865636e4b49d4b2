// The admin read API: who may call it, user listing with its email filter and cursor paging, and
// the audit trail filtered, paged newest first, and free of secrets.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  PASSWORD,
  json,
  passwordGrant,
  signUp,
  signUpAdmin,
  startTestServer,
  uniqueEmail,
  type TestServer,
} from '../support/harness.js';

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('admin API', () => {
  let server: TestServer;
  let adminToken: string;
  let userToken: string;
  before(async () => {
    server = await startTestServer();
    adminToken = (await signUpAdmin(server)).token;
    const user = await signUp(server);
    userToken = (await passwordGrant(server, user.email)).access_token;
  });
  after(() => server.close());

  function adminGet(url: string, token = adminToken) {
    return server.app.inject({ url, headers: { authorization: `Bearer ${token}` } });
  }

  function assertProblem(
    response: Awaited<ReturnType<typeof adminGet>>,
    status: number,
    code: string,
  ) {
    assert.equal(response.statusCode, status, response.body);
    assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
    assert.equal(json(response)['code'], code);
  }

  describe('access', () => {
    for (const url of ['/v1/admin/users', '/v1/admin/audit']) {
      it(`${url} needs a Bearer token (401) and the admin role (403)`, async () => {
        assertProblem(await server.app.inject({ url }), 401, 'unauthenticated');
        assertProblem(await adminGet(url, 'not.a.token'), 401, 'unauthenticated');
        const forbidden = await adminGet(url, userToken);
        assertProblem(forbidden, 403, 'forbidden');
        assert.equal(json(forbidden)['status'], 403);
        assert.equal((await adminGet(url)).statusCode, 200);
      });
    }

    it('refuses a jwt-client token of a normal user too', async () => {
      const user = await signUp(server);
      const token = (await passwordGrant(server, user.email, 'api')).access_token;
      assertProblem(await adminGet('/v1/admin/users', token), 403, 'forbidden');
    });
  });

  describe('GET /v1/admin/users', () => {
    type PublicUser = { id: string; email: string; roles: string[]; status: string };

    async function allUserIds(): Promise<string[]> {
      return (await server.services.storage.listUsers({ limit: 100_000 })).map((u) => u.id);
    }

    it('pages with limit and cursor to the end: every user once, nextCursor null at the end', async () => {
      for (let i = 0; i < 5; i++) await signUp(server, uniqueEmail('paging'));
      const expected = await allUserIds();
      assert.ok(expected.length >= 7);

      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
        const response = await adminGet(`/v1/admin/users?limit=2${query}`);
        assert.equal(response.statusCode, 200, response.body);
        const body = json(response) as { users: PublicUser[]; nextCursor: string | null };
        assert.ok(body.users.length >= 1 && body.users.length <= 2);
        seen.push(...body.users.map((u) => u.id));
        cursor = body.nextCursor;
        assert.ok(++pages <= expected.length, 'paging does not end');
      } while (cursor !== null);

      assert.equal(new Set(seen).size, seen.length, 'no user twice');
      assert.deepEqual([...seen].sort(), [...expected].sort());
      assert.equal(pages, Math.ceil(expected.length / 2));
    });

    it('answers nextCursor null when the page holds exactly the rest', async () => {
      const total = (await allUserIds()).length;
      const body = json(await adminGet(`/v1/admin/users?limit=${total}`));
      assert.equal((body['users'] as unknown[]).length, total);
      assert.equal(body['nextCursor'], null);
      const short = json(await adminGet(`/v1/admin/users?limit=${total - 1}`));
      assert.equal(typeof short['nextCursor'], 'string');
    });

    it('lists public user fields only', async () => {
      const response = await adminGet('/v1/admin/users?limit=100');
      const body = json(response) as { users: Record<string, unknown>[] };
      for (const user of body.users) {
        assert.deepEqual(Object.keys(user).sort(), ['createdAt', 'email', 'id', 'roles', 'status']);
        assert.match(user['createdAt'] as string, ISO_UTC);
      }
      assert.doesNotMatch(response.body, /argon2|password|hash/i);
    });

    it('filters by email, an exact match after normalisation', async () => {
      const local = `Zoe\u0301-${process.pid}`;
      const email = `${local}@example.test`.normalize('NFC').toLowerCase();
      const created = await signUp(server, `zoe\u0301-${process.pid}@Example.test`);
      assert.equal(created.email, email);
      for (const query of [
        email,
        `  ${email.toUpperCase()} `,
        `${local.normalize('NFD')}@EXAMPLE.TEST`,
      ]) {
        const body = json(await adminGet(`/v1/admin/users?email=${encodeURIComponent(query)}`));
        const users = body['users'] as PublicUser[];
        assert.deepEqual(
          users.map((u) => u.id),
          [created.id],
          query,
        );
        assert.equal(body['nextCursor'], null);
      }
      // Exact: neither a prefix nor a substring matches.
      for (const query of [`zoe@example.test`, `e\u0301-${process.pid}@example.test`]) {
        const body = json(await adminGet(`/v1/admin/users?email=${encodeURIComponent(query)}`));
        assert.deepEqual(body['users'], []);
      }
      assertProblem(await adminGet('/v1/admin/users?email=not-an-email'), 400, 'validation_failed');
    });

    it('refuses a bad limit with 400', async () => {
      for (const limit of ['0', '101', 'abc', '-1', '1.5', '', '1e2', '0x10', '%205', '1000']) {
        assertProblem(await adminGet(`/v1/admin/users?limit=${limit}`), 400, 'validation_failed');
      }
      assert.equal((await adminGet('/v1/admin/users?limit=1')).statusCode, 200);
      assert.equal((await adminGet('/v1/admin/users?limit=100')).statusCode, 200);
    });

    it('refuses a bad cursor with 400', async () => {
      const randomBase64 = Buffer.from('\u00ff\u0001not json at all').toString('base64url');
      const numberCursor = Buffer.from('42').toString('base64url');
      for (const cursor of [
        '???',
        randomBase64,
        'q83vEjRWeJA',
        numberCursor,
        '',
        'A'.repeat(300),
      ]) {
        assertProblem(
          await adminGet(`/v1/admin/users?cursor=${encodeURIComponent(cursor)}`),
          400,
          'validation_failed',
        );
      }
    });

    it('refuses unknown query parameters', async () => {
      assertProblem(await adminGet('/v1/admin/users?role=admin'), 400, 'validation_failed');
    });
  });

  describe('GET /v1/admin/audit', () => {
    const AGENT = 'admin-audit-test/2.0';
    const WRONG_PASSWORD = 'wrong horse battery staple 99';
    let userId: string;
    const secrets: string[] = [PASSWORD, WRONG_PASSWORD];

    function login(email: string, password: string) {
      return server.app.inject({
        method: 'POST',
        url: '/v1/token',
        headers: { 'user-agent': AGENT },
        payload: { grant_type: 'password', username: email, password, client_id: 'app' },
      });
    }

    type Event = {
      id: string;
      type: string;
      at: string;
      userId: string | null;
      ip: string | null;
      userAgent: string | null;
      detail: Record<string, unknown>;
    };

    async function readAll(query: string): Promise<{ events: Event[]; pages: number }> {
      const events: Event[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const suffix: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
        const response = await adminGet(`/v1/admin/audit?${query}${suffix}`);
        assert.equal(response.statusCode, 200, response.body);
        for (const secret of secrets) assert.equal(response.body.includes(secret), false);
        const body = json(response) as { events: Event[]; nextCursor: string | null };
        events.push(...body.events);
        cursor = body.nextCursor;
        assert.ok(++pages < 100, 'paging does not end');
      } while (cursor !== null);
      return { events, pages };
    }

    before(async () => {
      const email = uniqueEmail('audited');
      const signUpResponse = await server.app.inject({
        method: 'POST',
        url: '/v1/accounts',
        headers: { 'user-agent': AGENT },
        payload: { email, password: PASSWORD },
      });
      userId = (json(signUpResponse)['user'] as { id: string }).id;
      // Alternate outcomes a second apart, so order is visible in `at` as well as in IDs.
      for (let i = 0; i < 3; i++) {
        server.clock.advance(1_000);
        const ok = json(await login(email, PASSWORD));
        secrets.push(ok['access_token'] as string, ok['refresh_token'] as string);
        server.clock.advance(1_000);
        assert.equal((await login(email, WRONG_PASSWORD)).statusCode, 400);
      }
      // Someone else's events must not show up in this user's trail.
      await signUp(server);
    });

    it('lists a user’s events newest first, with every field', async () => {
      const body = json(await adminGet(`/v1/admin/audit?userId=${userId}`));
      const events = body['events'] as Event[];
      assert.equal(body['nextCursor'], null);
      assert.deepEqual(
        events.map((e) => e.type),
        [
          'login_failed',
          'login_succeeded',
          'login_failed',
          'login_succeeded',
          'login_failed',
          'login_succeeded',
          'signup',
        ],
      );
      for (let i = 1; i < events.length; i++) {
        assert.ok(events[i - 1]!.at > events[i]!.at, 'newest first by time');
        assert.ok(Number(events[i - 1]!.id) > Number(events[i]!.id), 'newest first by id');
      }
      for (const event of events) {
        for (const key of ['type', 'at', 'userId', 'ip', 'userAgent', 'detail']) {
          assert.ok(key in event, `${event.type} lacks ${key}`);
        }
        assert.match(event.at, ISO_UTC);
        assert.equal(event.userId, userId);
        assert.equal(event.ip, '127.0.0.1');
        assert.equal(event.userAgent, AGENT);
        assert.equal(typeof event.detail, 'object');
        assert.notEqual(event.detail, null);
      }
      assert.equal(events[0]!.at, new Date(server.clock.now()).toISOString());
    });

    it('filters by type', async () => {
      const { events } = await readAll(`userId=${userId}&type=login_failed`);
      assert.equal(events.length, 3);
      assert.ok(events.every((e) => e.type === 'login_failed' && e.userId === userId));
      const signups = (await readAll('type=signup')).events;
      assert.ok(signups.length >= 3);
      assert.ok(signups.every((e) => e.type === 'signup'));
      assert.ok(signups.some((e) => e.userId === userId));
    });

    it('pages to the end without gaps or duplicates', async () => {
      const whole = json(await adminGet(`/v1/admin/audit?userId=${userId}&limit=100`));
      const expected = (whole['events'] as Event[]).map((e) => e.id);
      const { events, pages } = await readAll(`userId=${userId}&limit=2`);
      assert.deepEqual(
        events.map((e) => e.id),
        expected,
      );
      assert.equal(pages, Math.ceil(expected.length / 2));
      const single = await readAll(`userId=${userId}&type=login_succeeded&limit=1`);
      assert.equal(single.events.length, 3);
      assert.equal(single.pages, 3);
    });

    it('never carries a password or token in any event', async () => {
      const { events } = await readAll('limit=100');
      assert.ok(events.length >= 8);
      const text = JSON.stringify(events);
      for (const secret of secrets) assert.equal(text.includes(secret), false);
      assert.doesNotMatch(text, /lkr_|argon2|eyJ/);
    });

    it('refuses a bad type, limit or cursor with 400', async () => {
      const userCursor = Buffer.from(JSON.stringify('usr_x')).toString('base64url');
      for (const query of [
        'type=password_reset',
        'type=',
        'limit=0',
        'limit=101',
        'limit=abc',
        'limit=-1',
        'cursor=???',
        `cursor=${userCursor}`,
        `cursor=${Buffer.from('{"id":1}').toString('base64url')}`,
        'cursor=q83vEjRWeJA',
        'userId=',
        'since=2020-01-01',
      ]) {
        assertProblem(await adminGet(`/v1/admin/audit?${query}`), 400, 'validation_failed');
      }
    });
  });
});
