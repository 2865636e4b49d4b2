// Redis failing under a running server: crashed (SIGKILL, back empty), cut off while its data
// survives (a partition), and frozen (SIGSTOP, connections open, no answers). Throughout: cookie
// checks fail closed with a plain 503, Bearer tokens keep working, /readyz says so, the server
// recovers on its own, and a session revoked meanwhile never comes back.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runUsersCreate } from '../../src/cli/commands.js';
import { validateConfig } from '../../src/config/load.js';
import { ManualClock } from '../../src/core/clock.js';
import { startServer, type RunningServer } from '../../src/server.js';
import {
  PASSWORD,
  assertNoInternals,
  baseConfig,
  call,
  cookieLogin,
  eventually,
  freePort,
  schemaDatabaseUrl,
  signUp,
  tokenLogin,
  uniqueEmail,
  type Reply,
} from '../support/instances.js';
import { createTestSchema, dropTestSchema } from '../support/postgres.js';
import type { TcpLink } from '../support/tcp-link.js';
import {
  PrivateRedis,
  openRedisLink,
  deleteRedisKeys,
  randomRedisPrefix,
  scaleSkip,
} from '../support/redis.js';

const skip = await scaleSkip({ privateRedis: true });
const FEED_SECRET = 'feed-reader-secret-of-at-least-32-bytes!';
const FEED_AUTH = `Basic ${Buffer.from(`feed:${FEED_SECRET}`).toString('base64')}`;

/** One Latchkey server in this process on its own schema, with Redis at `redisUrl`. */
class Latchkey {
  server: RunningServer | undefined;
  schema = '';
  readonly prefix = randomRedisPrefix();

  constructor(private readonly redisUrl: string) {}

  get base(): string {
    if (!this.server) throw new Error('not started');
    return this.server.url;
  }

  private file(port: number): Record<string, unknown> {
    return baseConfig({
      port,
      issuer: `http://127.0.0.1:${port}`,
      databaseUrl: schemaDatabaseUrl(this.schema),
      redisUrl: this.redisUrl,
      resourceServers: [{ id: 'feed', secret: FEED_SECRET }],
    });
  }

  /** The config the CLI would run with next to the server (it needs no Redis). */
  cliConfig() {
    return validateConfig({ ...this.file(0), redisUrl: null });
  }

  async start(clock?: ManualClock): Promise<void> {
    if (!this.schema) this.schema = await createTestSchema('lk_scale');
    this.server = await startServer(validateConfig(this.file(await freePort())), {
      redisPrefix: this.prefix,
      ...(clock ? { clock } : {}),
    });
  }

  /** Fresh process state on the same database and Redis: a restart, `laterMs` from now. */
  async restart(laterMs = 0): Promise<void> {
    await this.server?.close();
    this.server = undefined;
    await this.start(laterMs ? new ManualClock(Date.now() + laterMs) : undefined);
  }

  async close(): Promise<void> {
    await this.server?.close();
    this.server = undefined;
    if (this.schema) await dropTestSchema(this.schema);
  }

  /** How many revocation events the feed holds for `id`. */
  async feedEventsFor(id: string): Promise<number> {
    const response = await fetch(`${this.base}/v1/revocations`, {
      headers: { authorization: FEED_AUTH },
    });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { events: Array<{ id: string }> };
    return body.events.filter((event) => event.id === id).length;
  }
}

const cookieCheck = (base: string, cookie: string) => call(base, 'GET', '/v1/session', { cookie });
const me = (base: string, token: string) => call(base, 'GET', '/v1/me', { bearer: token });

function assertFailsClosed(reply: Reply, what: string): void {
  assert.equal(reply.status, 503, `${what}: ${reply.status} ${reply.text}`);
  assertNoInternals(reply, what);
  assert.ok(reply.headers.get('retry-after'), `${what}: Retry-After`);
}

/** What every scenario checks while Redis is away. */
async function assertDegraded(base: string, cookie: string, accessToken: string): Promise<void> {
  assertFailsClosed(await cookieCheck(base, cookie), 'cookie check while Redis is away');
  const bearer = await me(base, accessToken);
  assert.equal(bearer.status, 200, `Bearer while Redis is away: ${bearer.text}`);
  const ready = await call(base, 'GET', '/readyz');
  assert.equal(ready.status, 503, `/readyz while Redis is away: ${ready.text}`);
  assertNoInternals(ready, '/readyz');
}

describe(
  'Redis crashes and comes back empty (private redis-server, SIGKILL)',
  { skip, timeout: 90_000 },
  () => {
    let redis: PrivateRedis | undefined;
    let latchkey: Latchkey | undefined;

    before(async () => {
      redis = new PrivateRedis(await freePort());
      await redis.start();
      latchkey = new Latchkey(redis.url);
      await latchkey.start();
    });

    after(async () => {
      await latchkey?.close();
      await redis?.kill();
    });

    it('fails cookie checks closed, keeps Bearer working, recovers, and resurrects nothing', async (t) => {
      const { base } = latchkey!;
      const user = await signUp(base);
      const kept = await cookieLogin(base, user.email);
      const doomed = await cookieLogin(base, user.email);
      const pair = await tokenLogin(base, user.email);
      for (const session of [kept, doomed]) {
        assert.equal((await cookieCheck(base, session.cookie)).status, 200);
      }

      await redis!.kill();
      await assertDegraded(base, kept.cookie, pair.access_token);
      const login = await call(base, 'POST', '/v1/session', {
        json: { email: user.email, password: PASSWORD },
      });
      assertNoInternals(login, 'cookie login while Redis is down');

      // Revoked while Redis cannot take a tombstone.
      const revoked = await call(base, 'DELETE', `/v1/sessions/${doomed.sessionId}`, {
        bearer: pair.access_token,
      });
      assertNoInternals(revoked, 'revocation while Redis is down');
      t.diagnostic(`revoking a cookie session while Redis is down answered ${revoked.status}`);
      assert.ok([204, 503].includes(revoked.status), revoked.text);

      await redis!.start();
      const recovery = await eventually(
        'cookie checks work again after Redis returns',
        async () => (await cookieCheck(base, kept.cookie)).status === 200,
        { timeoutMs: 8000, intervalMs: 50 },
      );
      t.diagnostic(`cookie checks answered again ${recovery} ms after Redis restarted`);
      assert.equal((await call(base, 'GET', '/readyz')).status, 200);
      assert.equal((await cookieCheck(base, doomed.cookie)).status, 401, 'not resurrected');
      assert.ok((await latchkey!.feedEventsFor(doomed.sessionId)) >= 1, 'the revocation is logged');
      const sessions = await call(base, 'GET', '/v1/sessions', { bearer: pair.access_token });
      const ids = (sessions.body['sessions'] as Array<{ id: string }>).map((s) => s.id);
      assert.ok(!ids.includes(doomed.sessionId), 'the revoked session is not listed');
    });
  },
);

describe('Redis cut off while its data survives (partition)', { skip, timeout: 90_000 }, () => {
  let link: TcpLink | undefined;
  let latchkey: Latchkey | undefined;

  before(async () => {
    link = await openRedisLink();
    latchkey = new Latchkey(link.url());
    await latchkey.start();
  });

  after(async () => {
    await latchkey?.close();
    await link?.cut();
    if (latchkey) await deleteRedisKeys(latchkey.prefix);
  });

  it('never brings back a session revoked or banned while Redis was unreachable', async (t) => {
    const { base } = latchkey!;
    const adminEmail = uniqueEmail('admin');
    const created = await runUsersCreate(latchkey!.cliConfig(), adminEmail, PASSWORD, ['admin']);
    assert.ok(created.ok, created.message);
    const admin = await tokenLogin(base, adminEmail, 'api');

    const user = await signUp(base);
    const kept = await cookieLogin(base, user.email);
    const doomed = await cookieLogin(base, user.email);
    const pair = await tokenLogin(base, user.email);
    const target = await signUp(base);
    const banned = await cookieLogin(base, target.email);
    // Cached in Redis as live sessions; the cut leaves these entries in place.
    for (const session of [kept, doomed, banned]) {
      assert.equal((await cookieCheck(base, session.cookie)).status, 200);
    }

    await link!.cut();
    await assertDegraded(base, kept.cookie, pair.access_token);
    const revoked = await call(base, 'DELETE', `/v1/sessions/${doomed.sessionId}`, {
      bearer: pair.access_token,
    });
    assertNoInternals(revoked, 'revocation during the cut');
    const ban = await call(base, 'POST', `/v1/admin/users/${target.id}/ban`, {
      bearer: admin.access_token,
    });
    assertNoInternals(ban, 'ban during the cut');
    t.diagnostic(`during the cut: revocation ${revoked.status}, ban ${ban.status}`);

    await link!.restore();
    await eventually(
      'cookie checks work again once Redis is reachable',
      async () => (await cookieCheck(base, kept.cookie)).status === 200,
      { timeoutMs: 8000, intervalMs: 50 },
    );
    assert.equal((await cookieCheck(base, doomed.cookie)).status, 401, 'revoked stays revoked');
    assert.equal((await cookieCheck(base, banned.cookie)).status, 401, 'banned stays out');
    const unban = await call(base, 'POST', `/v1/admin/users/${target.id}/unban`, {
      bearer: admin.access_token,
    });
    assert.equal(unban.status, 204, unban.text);
    assert.equal(
      (await cookieCheck(base, banned.cookie)).status,
      401,
      'a ban ends every session: unbanning does not bring one back',
    );

    // A restart well after every access token of the time has expired (so the ordinary revocation
    // events are gone): fresh process state, knowing only the database and Redis, where the
    // untombstoned entries are still live.
    await latchkey!.restart(20 * 60 * 1000);
    const fresh = latchkey!.base;
    assert.equal((await cookieCheck(fresh, kept.cookie)).status, 200);
    assert.equal(
      (await cookieCheck(fresh, doomed.cookie)).status,
      401,
      'still revoked after restart',
    );
    assert.equal(
      (await cookieCheck(fresh, banned.cookie)).status,
      401,
      'still ended after restart',
    );
  });
});

describe('Redis frozen with connections open (SIGSTOP)', { skip, timeout: 90_000 }, () => {
  let redis: PrivateRedis | undefined;
  let latchkey: Latchkey | undefined;

  before(async () => {
    redis = new PrivateRedis(await freePort());
    await redis.start();
    latchkey = new Latchkey(redis.url);
    await latchkey.start();
  });

  after(async () => {
    redis?.resume();
    await latchkey?.close();
    await redis?.kill();
  });

  it('answers cookie checks with 503 in bounded time instead of hanging', async (t) => {
    const { base } = latchkey!;
    const user = await signUp(base);
    const web = await cookieLogin(base, user.email);
    const pair = await tokenLogin(base, user.email);
    assert.equal((await cookieCheck(base, web.cookie)).status, 200);

    redis!.pause();
    try {
      const started = Date.now();
      const reply = await call(base, 'GET', '/v1/session', {
        cookie: web.cookie,
        timeoutMs: 10_000,
      });
      const took = Date.now() - started;
      t.diagnostic(`cookie check against a frozen Redis answered ${reply.status} in ${took} ms`);
      assertFailsClosed(reply, 'cookie check while Redis is frozen');
      assert.ok(took < 5000, `took ${took} ms`);
      await assertDegraded(base, web.cookie, pair.access_token);
    } finally {
      redis!.resume();
    }
    await eventually(
      'cookie checks work again once Redis answers',
      async () => (await cookieCheck(base, web.cookie)).status === 200,
      { timeoutMs: 8000, intervalMs: 50 },
    );
    assert.equal((await call(base, 'GET', '/readyz')).status, 200);
  });
});
