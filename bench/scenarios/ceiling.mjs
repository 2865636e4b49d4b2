// Row: the ceiling, a bare node:http server with a fixed JSON body. Other HTTP rows are read
// against it: it is what one Node process next to its load generator reaches on this box now.
import { cannon } from '../lib/autocannon.mjs';
import { medianOf, medianRow } from '../lib/report.mjs';

const CONNECTIONS = 50;

export default {
  id: 'ceiling',
  needs: ['ceiling'],

  async measure(ctx) {
    const server = ctx.servers.ceiling;
    const { seconds, warmupSeconds } = ctx.settings;
    await cannon({ url: server.url, connections: CONNECTIONS, seconds: warmupSeconds });
    const window = await ctx.window(server);
    const result = await cannon({ url: server.url, connections: CONNECTIONS, seconds });
    return { ...result, window: await window.end() };
  },

  describe: (run) => `${Math.round(run.rps)} req/s, p99 ${run.p99} ms`,

  rows(runs) {
    return [
      medianRow({
        id: 'ceiling.rps',
        label: `Ceiling: bare node:http, small JSON (autocannon -c ${CONNECTIONS})`,
        unit: 'req/s',
        runs,
        pick: (run) => run.rps,
        detail: `p99 ${medianOf(runs, (r) => r.p99)} ms; server CPU ${medianOf(runs, (r) => r.window.server.cpuCores).toFixed(2)} cores`,
        errors: runs.reduce((sum, r) => sum + r.non2xx + r.errors, 0),
      }),
    ];
  },
};
