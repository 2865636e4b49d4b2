// Two Latchkey server processes behind one issuer, sharing PostgreSQL (one schema) and Redis (one
// key prefix), the way two instances behind a load balancer run: whatever one instance does, the
// other honours, revocations within 100 ms, and a key rotation without a restart.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { runKeysRotate, runUsersCreate } from '../../src/cli/commands.js';
import { validateConfig } from '../../src/config/load.js';
import {
  Instance,
  PASSWORD,
  assertFamilyConsistent,
  baseConfig,
  call,
  claimsOf,
  cookieLogin,
  eventually,
  familyStates,
  freePort,
  headerOf,
  refresh,
  schemaDatabaseUrl,
  signUp,
  tokenLogin,
  uniqueEmail,
  type Reply,
} from '../support/instances.js';
import { createTestSchema, dropTestSchema } from '../support/postgres.js';
import { REDIS_TEST_URL, deleteRedisKeys, randomRedisPrefix, scaleSkip } from '../support/redis.js';

const skip = await scaleSkip();
/** The propagation bound the issue sets for revocations across instances. */
const FANOUT_BOUND_MS = 100;
const GRACE_S = 2;

describe('two server processes sharing PostgreSQL and Redis', { skip, timeout: 180_000 }, () => {
  let schema = '';
  const prefix = randomRedisPrefix();
  let fileA: Record<string, unknown> = {};
  let a: Instance | undefined;
  let b: Instance | undefined;
  let A = '';
  let B = '';

  before(async () => {
    schema = await createTestSchema('lk_scale');
    const portA = await freePort();
    let portB = await freePort();
    while (portB === portA) portB = await freePort();
    // One public address for both (the load balancer's); here instance A's own URL.
    const issuer = `http://127.0.0.1:${portA}`;
    const shared = baseConfig({
      issuer,
      databaseUrl: schemaDatabaseUrl(schema),
      redisUrl: REDIS_TEST_URL,
      keys: { reloadInterval: '1s' },
      tokens: { refreshReuseGrace: GRACE_S },
    });
    fileA = { ...shared, port: portA };
    // A first: it applies the migrations and creates the signing key that B then loads.
    a = await Instance.start(fileA, { redisPrefix: prefix });
    b = await Instance.start({ ...shared, port: portB }, { redisPrefix: prefix });
    A = a.url;
    B = b.url;
  });

  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    if (schema) await dropTestSchema(schema);
    await deleteRedisKeys(prefix);
  });

  const me = (base: string, token: string) => call(base, 'GET', '/v1/me', { bearer: token });
  const cookieCheck = (base: string, cookie: string) =>
    call(base, 'GET', '/v1/session', { cookie });

  /** How long until `base` refuses `token`, polled every 5 ms from now. */
  const refusalDelay = (base: string, token: string) =>
    eventually(
      `${base} refuses the access token`,
      async () => (await me(base, token)).status === 401,
      { timeoutMs: 3000, intervalMs: 5 },
    );

  function assertOk(reply: Reply, what: string): Record<string, unknown> {
    assert.equal(reply.status, 200, `${what}: ${reply.status} ${reply.text}`);
    return reply.body;
  }

  function assertInvalidGrant(reply: Reply, what: string): void {
    assert.equal(reply.status, 400, `${what}: ${reply.status} ${reply.text}`);
    assert.equal(reply.body['error'], 'invalid_grant', what);
  }

  it('signs up on A, logs in on B, refreshes on A, revokes on B: A refuses at once', async (t) => {
    const user = await signUp(A);
    const pair = await tokenLogin(B, user.email);
    const web = await cookieLogin(B, user.email);
    assert.equal((await cookieCheck(A, web.cookie)).status, 200, 'B’s cookie session works on A');

    const refreshed = assertOk(await refresh(A, pair.refresh_token), 'refresh on A');
    const access = refreshed['access_token'] as string;
    const successor = refreshed['refresh_token'] as string;
    assert.equal(refreshed['session_id'], pair.session_id);
    assert.equal((await me(A, access)).status, 200);
    assert.equal((await me(B, access)).status, 200, 'A’s token is valid on B');

    const revoked = await call(B, 'DELETE', `/v1/sessions/${pair.session_id}`, { bearer: access });
    assert.equal(revoked.status, 204, revoked.text);
    const delay = await refusalDelay(A, access);
    t.diagnostic(`A refused the access token of the session revoked on B after ${delay} ms`);
    assert.ok(delay <= FANOUT_BOUND_MS, `A took ${delay} ms to refuse a revoked sid`);
    assertInvalidGrant(await refresh(A, successor), 'the current refresh token on A');
    assertInvalidGrant(await refresh(A, pair.refresh_token), 'the retired refresh token on A');

    const logout = await call(B, 'DELETE', '/v1/session', {
      cookie: web.cookie,
      csrf: web.csrfToken,
    });
    assert.equal(logout.status, 204, logout.text);
    // The very next request on A: no waiting.
    assert.equal((await cookieCheck(A, web.cookie)).status, 401, 'the cookie fails on A at once');
    assert.equal((await cookieCheck(B, web.cookie)).status, 401);
    const [family] = await familyStates(schema, [pair.session_id]);
    assert.ok(family);
    assert.equal(family.revoked, true);
    assertFamilyConsistent(family);
  });

  it('tells the other instance of a revoked session, token and user epoch within 100 ms', async (t) => {
    const delays: Record<string, number[]> = { session: [], token: [], epoch: [], ban: [] };
    const adminEmail = uniqueEmail('admin');
    const created = await runUsersCreate(
      validateConfig({ ...fileA, redisUrl: null }),
      adminEmail,
      PASSWORD,
      ['admin'],
    );
    assert.ok(created.ok, created.message);
    const admin = await tokenLogin(A, adminEmail, 'api');

    for (let round = 0; round < 3; round++) {
      // Alternate which instance revokes and which must learn of it.
      const [here, there] = round % 2 === 0 ? [A, B] : [B, A];
      const user = await signUp(here);

      // A session (refresh family) revoked by its owner.
      const pair = await tokenLogin(here, user.email);
      assert.equal((await me(there, pair.access_token)).status, 200);
      const revoked = await call(here, 'DELETE', `/v1/sessions/${pair.session_id}`, {
        bearer: pair.access_token,
      });
      assert.equal(revoked.status, 204, revoked.text);
      delays['session']!.push(await refusalDelay(there, pair.access_token));

      // One access token revoked (RFC 7009).
      const jwt = await tokenLogin(here, user.email, 'api');
      assert.equal((await me(there, jwt.access_token)).status, 200);
      const revokedToken = await call(here, 'POST', '/v1/token/revoke', {
        form: { token: jwt.access_token },
      });
      assert.equal(revokedToken.status, 200, revokedToken.text);
      delays['token']!.push(await refusalDelay(there, jwt.access_token));

      // The user epoch: "log out everywhere".
      const other = await tokenLogin(here, user.email, 'api');
      const survivor = await tokenLogin(there, user.email, 'api');
      assert.equal((await me(there, survivor.access_token)).status, 200);
      const everywhere = await call(here, 'DELETE', '/v1/sessions', { bearer: other.access_token });
      assert.equal(everywhere.status, 204, everywhere.text);
      delays['epoch']!.push(await refusalDelay(there, survivor.access_token));

      // A ban: the epoch, every session and the account's status at once.
      const target = await signUp(here);
      const targetToken = await tokenLogin(here, target.email);
      const targetWeb = await cookieLogin(here, target.email);
      assert.equal((await me(there, targetToken.access_token)).status, 200);
      assert.equal((await cookieCheck(there, targetWeb.cookie)).status, 200);
      const ban = await call(here, 'POST', `/v1/admin/users/${target.id}/ban`, {
        bearer: admin.access_token,
      });
      assert.equal(ban.status, 204, ban.text);
      assert.equal((await cookieCheck(there, targetWeb.cookie)).status, 401);
      delays['ban']!.push(await refusalDelay(there, targetToken.access_token));
      assertInvalidGrant(await refresh(there, targetToken.refresh_token), 'banned user’s refresh');
    }
    for (const [kind, values] of Object.entries(delays)) {
      t.diagnostic(`${kind}: refused on the other instance after ${values.join(', ')} ms`);
      for (const value of values) {
        assert.ok(value <= FANOUT_BOUND_MS, `${kind} revocation took ${value} ms to arrive`);
      }
    }
  });

  it('gives 20 concurrent refreshes of one token, spread over both instances, one successor', async () => {
    const user = await signUp(A);
    const pair = await tokenLogin(A, user.email);
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) => refresh(i % 2 === 0 ? A : B, pair.refresh_token)),
    );
    const successors = new Set<string>();
    replies.forEach((reply, i) => {
      const body = assertOk(reply, `refresh ${i} on ${i % 2 === 0 ? 'A' : 'B'}`);
      successors.add(body['refresh_token'] as string);
      assert.equal(claimsOf(body['access_token'] as string)['sid'], pair.session_id);
    });
    assert.equal(successors.size, 1, 'every request got the same successor');
    const [successor] = [...successors];
    assertOk(await refresh(B, successor!), 'the successor refreshes on B');
    const [family] = await familyStates(schema, [pair.session_id]);
    assert.ok(family);
    assert.equal(family.revoked, false);
    assert.equal(family.total, 3, 'one rotation per presented token, not per request');
    assertFamilyConsistent(family);
  });

  it('revokes the family everywhere when either instance sees reuse after the grace window', async (t) => {
    await Promise.all(
      [
        [A, B, 'A→B'],
        [B, A, 'B→A'],
      ].map(async ([rotatesOn, reusedOn, label]) => {
        const user = await signUp(rotatesOn!);
        const pair = await tokenLogin(rotatesOn!, user.email);
        const body = assertOk(await refresh(rotatesOn!, pair.refresh_token), `${label}: rotate`);
        const current = body['refresh_token'] as string;
        const access = body['access_token'] as string;
        assert.equal((await me(rotatesOn!, access)).status, 200);
        await sleep(GRACE_S * 1000 + 500);

        assertInvalidGrant(await refresh(reusedOn!, pair.refresh_token), `${label}: reuse`);
        const delay = await refusalDelay(rotatesOn!, access);
        t.diagnostic(
          `${label}: the rotating instance refused the family's token after ${delay} ms`,
        );
        assert.ok(delay <= FANOUT_BOUND_MS, `${label}: ${delay} ms`);
        for (const base of [A, B]) {
          assertInvalidGrant(await refresh(base, current), `${label}: current token on ${base}`);
        }
        const [family] = await familyStates(schema, [pair.session_id]);
        assert.ok(family);
        assert.equal(family.revoked, true, `${label}: the family is revoked`);
        assertFamilyConsistent(family);
      }),
    );
  });

  it('publishes the same JWKS on both, and both follow a key rotation without a restart', async () => {
    const jwks = async (base: string) =>
      assertOk(await call(base, 'GET', '/.well-known/jwks.json'), `JWKS of ${base}`) as {
        keys: Array<{ kid: string }>;
      };
    assert.deepEqual(await jwks(A), await jwks(B));
    const metadata = await Promise.all(
      [A, B].map(
        async (base) => (await call(base, 'GET', '/.well-known/oauth-authorization-server')).body,
      ),
    );
    assert.deepEqual(metadata[0], metadata[1], 'one issuer, one metadata document');

    const user = await signUp(A);
    const before = await tokenLogin(B, user.email, 'api');
    const oldKid = headerOf(before.access_token)['kid'];

    // The CLI, run next to the servers: a third process-like user of the same database.
    const message = await runKeysRotate(validateConfig({ ...fileA, redisUrl: null }));
    const newKid = /new key (\S+)/.exec(message)?.[1];
    assert.ok(newKid && newKid !== oldKid, message);

    await eventually(
      'both instances publish the new key',
      async () =>
        (await Promise.all([A, B].map(jwks))).every((set) =>
          set.keys.some((key) => key.kid === newKid),
        ),
      { timeoutMs: 8000, intervalMs: 100 },
    );
    assert.deepEqual(await jwks(A), await jwks(B));
    for (const [signer, verifier] of [
      [B, A],
      [A, B],
    ] as const) {
      let token = '';
      await eventually(
        `${signer} signs with the new key`,
        async () => {
          token = (await tokenLogin(signer, user.email, 'api')).access_token;
          return headerOf(token)['kid'] === newKid;
        },
        { timeoutMs: 8000, intervalMs: 200 },
      );
      assert.equal((await me(verifier, token)).status, 200, `${verifier} accepts the new key`);
    }
    // A token signed before the rotation stays valid everywhere until it expires.
    for (const base of [A, B]) assert.equal((await me(base, before.access_token)).status, 200);
  });
});
