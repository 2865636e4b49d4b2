// Rows: a login storm. While ≥ 16 password grants run continuously (the hashing pool saturated),
// autocannon loads GET /v1/me with a Bearer token; over the same window the server reports its
// event-loop delay. Shows whether token work waits behind hashes.
import { setTimeout as sleep } from 'node:timers/promises';
import { cannon } from '../lib/autocannon.mjs';
import { expectStatus, outcome } from '../lib/latchkey-api.mjs';
import { startLoop } from '../lib/loop.mjs';
import { medianOf, medianRow } from '../lib/report.mjs';
import { errorSummary } from './shared.mjs';

const LOGINS_IN_FLIGHT = 16;
const ME_CONNECTIONS = 10;
const USERS = 8;

export default {
  id: 'login-storm',
  storage: 'sqlite',
  needs: ['latchkey'],

  async prepare(ctx) {
    const users = await ctx.users(USERS);
    const { access_token: accessToken } = await ctx.api.login(users[0].email);
    expectStatus(await ctx.api.me(accessToken), 200, 'GET /v1/me with the storm token');
    return { users, headers: { authorization: `Bearer ${accessToken}` } };
  },

  async measure(ctx, { users, headers }) {
    const server = ctx.servers.latchkey;
    const logins = startLoop({
      concurrency: LOGINS_IN_FLIGHT,
      task: async (i) => outcome(await ctx.api.passwordGrant(users[i % USERS].email)),
    });
    let me;
    let window;
    let loginResult;
    try {
      // Let the hashing queue fill before measuring.
      await sleep(Math.min(1, ctx.settings.warmupSeconds) * 1000);
      logins.reset();
      const measuring = await ctx.window(server);
      me = await cannon({
        url: server.url,
        path: '/v1/me',
        headers,
        connections: ME_CONNECTIONS,
        seconds: ctx.settings.seconds,
      });
      window = await measuring.end();
    } finally {
      loginResult = await logins.stop();
    }
    return { me, logins: loginResult, window };
  },

  describe: (run) =>
    `event loop p99 ${run.window.server.eventLoopDelayMs.p99.toFixed(1)} ms, ` +
    `/v1/me p99 ${run.me.p99} ms, ${run.logins.rate.toFixed(1)} logins/s`,

  rows(runs) {
    const meErrors = runs.reduce((sum, r) => sum + r.me.non2xx + r.me.errors, 0);
    const loginErrors = runs.reduce((sum, r) => sum + r.logins.failed, 0);
    const context =
      `${LOGINS_IN_FLIGHT} logins in flight (${medianOf(runs, (r) => r.logins.rate).toFixed(1)} logins/s` +
      `${loginErrors ? `, ${loginErrors} failed` : ''}) + /v1/me at ${Math.round(medianOf(runs, (r) => r.me.rps))} req/s`;
    return [
      medianRow({
        id: 'login-storm.event-loop-p99',
        label: 'Login storm: server event-loop delay p99',
        unit: 'ms',
        runs,
        pick: (run) => run.window.server.eventLoopDelayMs.p99,
        detail:
          `max ${medianOf(runs, (r) => r.window.server.eventLoopDelayMs.max).toFixed(1)} ms ` +
          `(includes the 1 ms sampling interval); ${context}` +
          errorSummary(runs.map((r) => r.logins)),
        errors: loginErrors,
        goal: { op: '<', target: 20 },
      }),
      medianRow({
        id: 'login-storm.me-p99',
        label: `Login storm: GET /v1/me p99 (autocannon -c ${ME_CONNECTIONS})`,
        unit: 'ms',
        runs,
        pick: (run) => run.me.p99,
        detail:
          `p50 ${medianOf(runs, (r) => r.me.p50)} ms; server CPU ` +
          `${medianOf(runs, (r) => r.window.server.cpuCores).toFixed(2)} cores, main thread ` +
          `${(medianOf(runs, (r) => r.window.server.mainThreadBusy) * 100).toFixed(0)}% busy`,
        errors: meErrors,
        goal: { op: '<', target: 25 },
      }),
    ];
  },
};
