// A database that does not answer: a statement stuck behind a lock another client holds, and a
// connection whose packets stop (a network partition that sends no reset). Either way the request
// gets 503 `service_unavailable` within the configured bound instead of hanging, nothing is
// half-written, and the server serves again without a restart.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { validateConfig } from '../../src/config/load.js';
import { startServer, type RunningServer } from '../../src/server.js';
import {
  assertFamilyConsistent,
  assertNoInternals,
  baseConfig,
  familyStates,
  freePort,
  refresh,
  schemaDatabaseUrl,
  signUp,
  tokenLogin,
  type Reply,
} from '../support/instances.js';
import { createTestSchema, dropTestSchema, postgresSkip } from '../support/postgres.js';
import { TcpLink } from '../support/tcp-link.js';

const skip = await postgresSkip();
/** Seconds: the shortest timeout the config takes, so the waits below stay short. */
const STATEMENT_TIMEOUT = 1;

async function startOn(databaseUrl: string): Promise<RunningServer> {
  const port = await freePort();
  return startServer(
    validateConfig(
      baseConfig({
        port,
        issuer: `http://127.0.0.1:${port}`,
        databaseUrl,
        databaseStatementTimeout: STATEMENT_TIMEOUT,
      }),
    ),
  );
}

async function timed(request: Promise<Reply>): Promise<{ reply: Reply; ms: number }> {
  const started = performance.now();
  const reply = await request;
  return { reply, ms: performance.now() - started };
}

/** 503 `service_unavailable`, checked by assertNoInternals once the status is a 5xx. */
function assertUnavailable(reply: Reply, what: string): void {
  assert.equal(reply.status, 503, `${what}: ${reply.status} ${reply.text}`);
  assertNoInternals(reply, what);
}

describe('PostgreSQL that does not answer', { skip, timeout: 120_000 }, () => {
  let schema = '';
  const cleanups: Array<() => Promise<unknown>> = [];

  before(async () => {
    schema = await createTestSchema('lk_timeouts');
  });

  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    if (schema) await dropTestSchema(schema);
  });

  it('answers 503 when a statement waits on a lock past the timeout, and writes nothing', async () => {
    const server = await startOn(schemaDatabaseUrl(schema));
    cleanups.push(() => server.close());
    const user = await signUp(server.url);
    const pair = await tokenLogin(server.url, user.email);

    // Another client holds the session row, as an instance frozen mid-transaction would.
    const holder = new pg.Client({ connectionString: schemaDatabaseUrl(schema) });
    await holder.connect();
    cleanups.push(() => holder.end());
    await holder.query('begin');
    await holder.query('select id from sessions where id = $1 for update', [pair.session_id]);

    const { reply, ms } = await timed(refresh(server.url, pair.refresh_token));
    assertUnavailable(reply, 'refresh behind a held lock');
    // PostgreSQL cancelled it (statement_timeout), before this side's own read timeout.
    assert.ok(ms < STATEMENT_TIMEOUT * 1000 + 1500, `answered after ${Math.round(ms)} ms`);
    const [state] = await familyStates(schema, [pair.session_id]);
    assert.ok(state);
    assertFamilyConsistent(state);
    assert.equal(state.total, 1, 'the cancelled rotation wrote nothing');

    await holder.query('rollback');
    const retried = await refresh(server.url, pair.refresh_token);
    assert.equal(retried.status, 200, `the same token once the lock is gone: ${retried.text}`);
  });

  it('answers 503 when the connection stops answering, then serves on fresh connections', async () => {
    const relay = await TcpLink.open(schemaDatabaseUrl(schema), 5432);
    const server = await startOn(relay.url());
    // The relay goes first: cutting it frees the server's stalled connections to end.
    cleanups.push(
      () => server.close(),
      () => relay.cut(),
    );
    const user = await signUp(server.url);
    const pair = await tokenLogin(server.url, user.email);

    const stalled = relay.stallOpenConnections();
    assert.ok(stalled > 0, 'the server had open connections to stall');

    // Each stalled connection can cost one request its answer; the pool must then drop it rather
    // than queue the next request behind an answer that will never come. A server that kept
    // them would answer 503 for ever.
    const statuses: number[] = [];
    for (let attempt = 0; attempt <= stalled + 2; attempt++) {
      const { reply, ms } = await timed(refresh(server.url, pair.refresh_token));
      statuses.push(reply.status);
      if (reply.status === 200) break;
      assertUnavailable(reply, `refresh ${attempt} over a stalled connection`);
      assert.ok(ms < 30_000, `answered after ${Math.round(ms)} ms`);
    }
    assert.equal(statuses.at(-1), 200, `statuses: ${statuses.join(', ')}`);
    const [state] = await familyStates(schema, [pair.session_id]);
    assert.ok(state);
    assertFamilyConsistent(state);
  });
});
