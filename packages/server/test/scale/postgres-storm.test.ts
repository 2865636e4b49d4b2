// PostgreSQL connections killed (pg_terminate_backend) while ~100 refreshes over many families and
// a batch of revocations run: no 500 and nothing internal in any answer, no refresh family left
// half-rotated, no revoked session back, and the server serves again on fresh connections.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { validateConfig } from '../../src/config/load.js';
import { startServer, type RunningServer } from '../../src/server.js';
import {
  assertFamilyConsistent,
  assertNoInternals,
  baseConfig,
  call,
  cookieLogin,
  eventually,
  familyStates,
  freePort,
  refresh,
  schemaDatabaseUrl,
  signUp,
  tokenLogin,
  type CookieSession,
  type Reply,
} from '../support/instances.js';
import {
  TEST_DATABASE_URL,
  createTestSchema,
  dropTestSchema,
  queryTestDatabase,
} from '../support/postgres.js';
import { REDIS_TEST_URL, deleteRedisKeys, randomRedisPrefix, scaleSkip } from '../support/redis.js';

const skip = await scaleSkip();
const USERS = 12;
const FAMILIES_PER_USER = 4;
const ROTATIONS_PER_FAMILY = 2;

interface Family {
  readonly sessionId: string;
  readonly initialAccess: string;
  refreshToken: string;
  access: string;
  /** Revoked by the test during the storm. */
  readonly doomed: boolean;
  /** Its client refreshes twice at once on the first step (a retrying client's race). */
  readonly racing: boolean;
  refusals: number;
}

/**
 * Terminates this test's server connections every `everyMs` for `forMs` (or until stopped);
 * `stop` returns how many it killed.
 */
function startKiller(applicationName: string, everyMs: number, forMs: number) {
  const client = new pg.Client({
    connectionString: TEST_DATABASE_URL,
    application_name: 'lk_storm_killer',
  });
  client.on('error', () => undefined);
  let kills = 0;
  let running = true;
  const timer = setTimeout(() => (running = false), forMs);
  const loop = (async () => {
    await client.connect();
    while (running) {
      const { rows } = await client.query<{ killed: string }>(
        `select count(*) filter (where pg_terminate_backend(pid)) as killed
           from pg_stat_activity
          where application_name = $1 and pid <> pg_backend_pid()`,
        [applicationName],
      );
      kills += Number(rows[0]?.killed ?? 0);
      await sleep(everyMs);
    }
  })();
  return {
    async stop(): Promise<number> {
      running = false;
      clearTimeout(timer);
      try {
        await loop;
      } finally {
        await client.end().catch(() => undefined);
      }
      return kills;
    },
  };
}

describe('PostgreSQL connections killed during a refresh storm', { skip, timeout: 180_000 }, () => {
  let schema = '';
  const prefix = randomRedisPrefix();
  const applicationName = `lk_storm_${randomBytes(4).toString('hex')}`;
  const servers: RunningServer[] = [];
  let base = '';

  /** A server on the test's schema; a second one shares the first one's issuer (one address). */
  const start = async (issuer?: string) => {
    const port = await freePort();
    const server = await startServer(
      validateConfig(
        baseConfig({
          port,
          issuer: issuer ?? `http://127.0.0.1:${port}`,
          databaseUrl: schemaDatabaseUrl(schema, applicationName),
          redisUrl: REDIS_TEST_URL,
          rateLimits: { refreshPerMinute: 1_000_000, defaultPerMinute: 1_000_000 },
        }),
      ),
      { redisPrefix: prefix },
    );
    servers.push(server);
    return server.url;
  };

  before(async () => {
    schema = await createTestSchema('lk_scale');
    base = await start();
  });

  after(async () => {
    for (const server of servers) await server.close().catch(() => undefined);
    if (schema) await dropTestSchema(schema);
    await deleteRedisKeys(prefix);
  });

  it('keeps every family consistent and every revocation final', async (t) => {
    const families: Family[] = [];
    const cookies: Array<CookieSession & { doomed: boolean; bearer: string }> = [];
    for (let u = 0; u < USERS; u++) {
      const user = await signUp(base);
      for (let f = 0; f < FAMILIES_PER_USER; f++) {
        const pair = await tokenLogin(base, user.email);
        const index = families.length;
        families.push({
          sessionId: pair.session_id,
          initialAccess: pair.access_token,
          refreshToken: pair.refresh_token,
          access: pair.access_token,
          doomed: index % 4 === 1,
          racing: index % 3 === 0,
          refusals: 0,
        });
      }
      const web = await cookieLogin(base, user.email);
      assert.equal((await call(base, 'GET', '/v1/session', { cookie: web.cookie })).status, 200);
      cookies.push({ ...web, doomed: u % 2 === 0, bearer: families.at(-1)!.initialAccess });
    }

    const replies: Array<{ what: string; reply: Reply }> = [];
    const note = (what: string, reply: Reply) => {
      replies.push({ what, reply });
      return reply;
    };

    /** One refresh step as a careful client does it: retry the same token after a 503. */
    async function rotate(family: Family, label: string): Promise<string | null> {
      for (let attempt = 0; attempt < 50; attempt++) {
        const reply = note(label, await refresh(base, family.refreshToken));
        if (reply.status === 200) return reply.body['refresh_token'] as string;
        if (reply.status !== 503) {
          family.refusals++;
          return null;
        }
        await sleep(10 + Math.random() * 40);
      }
      throw new Error(`${label}: still unavailable after 50 attempts`);
    }

    async function runClient(family: Family, index: number): Promise<void> {
      await sleep(index % 20);
      for (let step = 0; step < ROTATIONS_PER_FAMILY; step++) {
        const label = `refresh ${family.sessionId} step ${step}`;
        const results =
          family.racing && step === 0
            ? await Promise.all([rotate(family, label), rotate(family, `${label} (twin)`)])
            : [await rotate(family, label)];
        const successors = new Set(results.filter((r): r is string => r !== null));
        assert.ok(successors.size <= 1, `${label}: concurrent retries got different successors`);
        const [successor] = [...successors];
        if (successor === undefined) return;
        family.refreshToken = successor;
      }
    }

    /** Revokes as a client does: again after a 503. */
    async function revoke(path: string, bearer: string): Promise<void> {
      await sleep(Math.random() * 200);
      for (let attempt = 0; attempt < 50; attempt++) {
        const reply = note(`DELETE ${path}`, await call(base, 'DELETE', path, { bearer }));
        // After a 503 the revocation may have gone through: the session is then gone (404), and
        // so is a Bearer token of the session itself (401).
        if (reply.status === 204 || (attempt > 0 && [401, 404].includes(reply.status))) return;
        assert.equal(reply.status, 503, `DELETE ${path}: ${reply.status} ${reply.text}`);
        await sleep(10 + Math.random() * 40);
      }
      throw new Error(`DELETE ${path}: still unavailable after 50 attempts`);
    }

    // Kills for a while, then lets connections come back: clients keep retrying meanwhile.
    const killer = startKiller(applicationName, 15, 1500);
    let kills: number;
    try {
      await sleep(30);
      await Promise.all([
        ...families.map(runClient),
        ...families
          .filter((f) => f.doomed)
          .map((f) => revoke(`/v1/sessions/${f.sessionId}`, f.initialAccess)),
        ...cookies
          .filter((c) => c.doomed)
          .map((c) => revoke(`/v1/sessions/${c.sessionId}`, c.bearer)),
      ]);
    } finally {
      kills = await killer.stop();
    }

    const count = (status: number) => replies.filter(({ reply }) => reply.status === status).length;
    t.diagnostic(
      `${replies.length} requests, ${kills} connections killed: ` +
        `${count(200)}×200, ${count(204)}×204, ${count(400)}×400, ${count(404)}×404, ${count(503)}×503`,
    );
    assert.ok(kills > 0, 'the storm met killed connections');
    for (const { what, reply } of replies) assertNoInternals(reply, what);

    await eventually(
      'ready again',
      async () => (await call(base, 'GET', '/readyz')).status === 200,
      { timeoutMs: 10_000, intervalMs: 100 },
    );

    // The database: every family whole; exactly the families revoked by the test are revoked.
    const states = await familyStates(
      schema,
      families.map((f) => f.sessionId),
    );
    assert.equal(states.length, families.length);
    const doomed = new Set(families.filter((f) => f.doomed).map((f) => f.sessionId));
    for (const state of states) {
      assertFamilyConsistent(state);
      assert.equal(state.revoked, doomed.has(state.sessionId), `family ${state.sessionId}`);
    }
    for (const family of families) {
      if (!family.doomed)
        assert.equal(family.refusals, 0, `live family ${family.sessionId} refused`);
    }

    // Every revoked session has its event in the log (the record other instances follow).
    const logged = await queryTestDatabase<{ subject_id: string }>(
      `select distinct subject_id from revocations where kind = 'session'`,
      [],
      schema,
    );
    const loggedIds = new Set(logged.map((row) => row.subject_id));
    for (const id of [...doomed, ...cookies.filter((c) => c.doomed).map((c) => c.sessionId)]) {
      assert.ok(loggedIds.has(id), `no revocation event for ${id}`);
    }

    // Serving again, here and on a fresh instance that knows only the database: live families
    // refresh, revoked ones and their access tokens stay dead, cookies likewise.
    const fresh = await start(base);
    for (const family of families) {
      const reply = await refresh(base, family.refreshToken);
      if (family.doomed) {
        assert.equal(reply.status, 400, `revoked family ${family.sessionId}: ${reply.text}`);
      } else {
        assert.equal(reply.status, 200, `live family ${family.sessionId}: ${reply.text}`);
        family.access = reply.body['access_token'] as string;
      }
      for (const server of [base, fresh]) {
        const me = await call(server, 'GET', '/v1/me', {
          bearer: family.doomed ? family.initialAccess : family.access,
        });
        assert.equal(me.status, family.doomed ? 401 : 200, `${family.sessionId} on ${server}`);
      }
    }
    for (const cookie of cookies) {
      for (const server of [base, fresh]) {
        const reply = await call(server, 'GET', '/v1/session', { cookie: cookie.cookie });
        assert.equal(reply.status, cookie.doomed ? 401 : 200, `cookie ${cookie.sessionId}`);
      }
    }
  });
});
