// Rows: GET /v1/me with a Bearer EdDSA access token, and its ratio to the ceiling measured in
// the same round. The token is the same for every request, as a real client's would be until it
// expires, so after the first request this is the verified-token cache path plus the user lookup.
import { cannon } from '../lib/autocannon.mjs';
import { expectStatus } from '../lib/latchkey-api.mjs';
import { medianOf, medianRow } from '../lib/report.mjs';

const CONNECTIONS = 50;

export default {
  id: 'me-bearer',
  needs: ['latchkey'],

  async prepare(ctx) {
    const [user] = await ctx.users(1);
    const { access_token: accessToken } = await ctx.api.login(user.email);
    expectStatus(await ctx.api.me(accessToken), 200, 'GET /v1/me with the bench token');
    return { headers: { authorization: `Bearer ${accessToken}` } };
  },

  async measure(ctx, { headers }) {
    const server = ctx.servers.latchkey;
    const { seconds, warmupSeconds } = ctx.settings;
    const options = { url: server.url, path: '/v1/me', headers, connections: CONNECTIONS };
    await cannon({ ...options, seconds: warmupSeconds });
    const window = await ctx.window(server);
    const result = await cannon({ ...options, seconds });
    return { ...result, window: await window.end() };
  },

  describe: (run) => `${Math.round(run.rps)} req/s, p99 ${run.p99} ms`,

  rows(runs, all) {
    const rows = [
      medianRow({
        id: 'me-bearer.rps',
        label: `GET /v1/me, Bearer EdDSA (autocannon -c ${CONNECTIONS})`,
        unit: 'req/s',
        runs,
        pick: (run) => run.rps,
        detail:
          `p99 ${medianOf(runs, (r) => r.p99)} ms; ` +
          `server CPU ${medianOf(runs, (r) => r.window.server.cpuCores).toFixed(2)} cores, ` +
          `main thread ${(medianOf(runs, (r) => r.window.server.mainThreadBusy) * 100).toFixed(0)}% busy; ` +
          `event-loop p99 ${medianOf(runs, (r) => r.window.server.eventLoopDelayMs.p99).toFixed(1)} ms`,
        errors: runs.reduce((sum, r) => sum + r.non2xx + r.errors, 0),
      }),
    ];
    const ceiling = all.ceiling;
    if (ceiling?.length === runs.length) {
      rows.push(
        medianRow({
          id: 'me-bearer.ratio',
          label: 'GET /v1/me Bearer ÷ ceiling (same round)',
          unit: '×',
          runs: runs.map((run, i) => ({
            ratio: run.rps / ceiling[i].rps,
            window: {
              machine: {
                otherCores: Math.max(
                  run.window.machine?.otherCores ?? 0,
                  ceiling[i].window.machine?.otherCores ?? 0,
                ),
              },
            },
          })),
          pick: (run) => run.ratio,
          detail: 'median of the per-round ratios',
          goal: { op: '>=', target: 0.5 },
        }),
      );
    }
    return rows;
  },
};
