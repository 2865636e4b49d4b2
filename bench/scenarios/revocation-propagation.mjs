// Rows: how long a revocation takes to reach a resource server in another process, as a client
// of that resource server sees it. The resource server (bench/resource-server.mjs) follows the
// `latchkey` server's revocation feed with @latchkey/verifier. Each of REVOCATIONS fresh hybrid
// logins (client `app`) is used once at the resource server (200, so its token is in the
// verified-token cache, as a token in use would be), then revoked, alternately by
// DELETE /v1/sessions/{session_id} with its own Bearer token (a `session` event) and by
// POST /v1/token/revoke of the access token (a `token` event). From the moment the revoking
// response has arrived, the token is presented again on GET / of the resource server, on one
// keep-alive connection, a new request at most every POLL_MS; the value is the time from that
// response to the first 401 received. A poll costs one loopback round trip, so the resolution is
// about POLL_MS plus one round trip, and the lowest possible value is one round trip.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { createHttpClient } from '../lib/http.mjs';
import { expectStatus } from '../lib/latchkey-api.mjs';
import { medianRow } from '../lib/report.mjs';
import { percentile } from '../lib/stats.mjs';
import { getWith, resourceServer } from './resource-server.mjs';
import { mapLimit } from './shared.mjs';

const ID = 'revocation-propagation';
const REVOCATIONS = 220;
const USERS = 10;
const LOGINS_IN_FLIGHT = 4;
const POLL_MS = 1;
const GIVE_UP_MS = 5_000;

/** Revokes a login one way or the other; resolves when the response has arrived. */
async function revoke(api, kind, { access_token: accessToken, session_id: sessionId }) {
  if (kind === 'session') {
    const response = await api.http.request({
      method: 'DELETE',
      path: `/v1/sessions/${encodeURIComponent(sessionId)}`,
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expectStatus(response, 204, 'DELETE /v1/sessions/{id}');
    return response;
  }
  const response = await api.http.postForm('/v1/token/revoke', {
    token: accessToken,
    token_type_hint: 'access_token',
    client_id: 'app',
  });
  expectStatus(response, 200, 'POST /v1/token/revoke');
  return response;
}

/**
 * Presents `token` at the resource server until it answers 401: { ms } from `since` to the first
 * 401 received, the number of polls, other statuses seen, and whether it gave up.
 */
async function firstRefusal(http, token, since) {
  const other = {};
  for (let polls = 1; ; polls++) {
    const sent = performance.now();
    const { status } = await getWith(http, token);
    const now = performance.now();
    if (status === 401) return { ms: now - since, polls, other, timedOut: false };
    if (status !== 200) other[status] = (other[status] ?? 0) + 1;
    if (now - since > GIVE_UP_MS) return { ms: now - since, polls, other, timedOut: true };
    const wait = POLL_MS - (now - sent);
    if (wait > 0) await sleep(wait);
  }
}

const quantiles = (samples) => {
  const ms = samples.map((s) => s.ms);
  return { p50: percentile(ms, 50), p99: percentile(ms, 99), max: Math.max(...ms) };
};

const errorsOf = (run) =>
  run.samples.filter((s) => s.timedOut || Object.keys(s.other).length > 0).length;

export default {
  id: ID,
  needs: ['latchkey'],
  schedule: 'once',

  async prepare(ctx) {
    const server = await resourceServer(ctx);
    const users = await ctx.users(USERS);
    return { server, users };
  },

  async measure(ctx, { server, users }) {
    const api = ctx.api;
    // Not timed: a password grant each (argon2id), then a moment for the machine to settle.
    const logins = await mapLimit(REVOCATIONS, LOGINS_IN_FLIGHT, (i) =>
      api.login(users[i % users.length].email),
    );
    await ctx.quiet();
    const http = createHttpClient(server.url, { maxSockets: 1 });
    const samples = [];
    const feedBefore = await server.call('status');
    const window = await ctx.window(ctx.servers.latchkey);
    try {
      for (let i = 0; i < REVOCATIONS; i++) {
        const kind = i % 2 === 0 ? 'session' : 'token';
        const token = logins[i].access_token;
        expectStatus(await getWith(http, token), 200, 'resource server: GET / before revoking');
        const response = await revoke(api, kind, logins[i]);
        const revokedAt = performance.now();
        const refusal = await firstRefusal(http, token, revokedAt);
        samples.push({ kind, revokeMs: response.ms, ...refusal });
      }
    } finally {
      http.close();
    }
    const feedAfter = await server.call('status');
    return {
      samples,
      feed: {
        mode: feedAfter.feed?.mode,
        events: (feedAfter.feed?.eventsReceived ?? 0) - (feedBefore.feed?.eventsReceived ?? 0),
        streamsOpened: feedAfter.feed?.streamsOpened,
      },
      window: await window.end(),
    };
  },

  describe(run) {
    const { p50, p99, max } = quantiles(run.samples);
    return `${run.samples.length} revocations: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${max.toFixed(1)} ms`;
  },

  rows(runs) {
    const run = runs[0];
    const all = quantiles(run.samples);
    const byKind = (kind, what) => {
      const samples = run.samples.filter((s) => s.kind === kind);
      const q = quantiles(samples);
      return `${samples.length} × ${what} p50 ${q.p50.toFixed(1)}, p99 ${q.p99.toFixed(1)} ms`;
    };
    const timedOut = run.samples.filter((s) => s.timedOut).length;
    const other = {};
    for (const sample of run.samples) {
      for (const [status, count] of Object.entries(sample.other)) {
        other[status] = (other[status] ?? 0) + count;
      }
    }
    const problems = [
      timedOut ? `${timedOut} never refused within ${GIVE_UP_MS / 1000} s` : '',
      ...Object.entries(other).map(([status, count]) => `${count} polls answered ${status}`),
    ].filter(Boolean);
    const polls = run.samples.map((s) => s.polls);
    const detail =
      `${byKind('session', 'DELETE /v1/sessions/{id}')}; ${byKind('token', 'POST /v1/token/revoke')}; ` +
      `max ${all.max.toFixed(1)} ms; polls per revocation p50 ${percentile(polls, 50)}, ` +
      `max ${Math.max(...polls)} (every ≥ ${POLL_MS} ms, one keep-alive connection); ` +
      `revoking request p50 ${percentile(
        run.samples.map((s) => s.revokeMs),
        50,
      ).toFixed(1)} ms; feed ${run.feed.mode}, ${run.feed.events} events received, ` +
      `${run.feed.streamsOpened} stream(s) opened; SQLite` +
      (problems.length ? `; errors: ${problems.join(', ')}` : '');
    const errors = errorsOf(run);
    const label = (p) =>
      `Revocation → first 401 at a resource server in another process, ${p} ` +
      `(${run.samples.length} revocations)`;
    return [
      medianRow({
        id: `${ID}.p50`,
        label: label('p50'),
        unit: 'ms',
        runs,
        pick: () => all.p50,
        detail,
        errors,
      }),
      medianRow({
        id: `${ID}.p99`,
        label: label('p99'),
        unit: 'ms',
        runs,
        pick: () => all.p99,
        detail: `from the revoking response to the first 401 received; see the p50 row`,
        errors,
        goal: { op: '<', target: 50 },
      }),
    ];
  },
};
