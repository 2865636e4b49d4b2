// Row: password logins per second (grant_type=password, client app), 8 in flight. Each costs one
// argon2id verification on the server's hashing pool, so this measures that pool's capacity.
import { outcome } from '../lib/latchkey-api.mjs';
import { runLoop } from '../lib/loop.mjs';
import { medianOf, medianRow } from '../lib/report.mjs';
import { errorSummary, sumErrors } from './shared.mjs';

const IN_FLIGHT = 8;
const USERS = 8;

export default {
  id: 'logins',
  storage: 'sqlite',
  needs: ['latchkey'],

  async prepare(ctx) {
    return { users: await ctx.users(USERS) };
  },

  async measure(ctx, { users }) {
    return runLoop({
      concurrency: IN_FLIGHT,
      seconds: ctx.settings.seconds,
      warmupSeconds: Math.min(0.5, ctx.settings.warmupSeconds),
      openWindow: () => ctx.window(ctx.servers.latchkey),
      task: async (i) => outcome(await ctx.api.passwordGrant(users[i % USERS].email)),
    });
  },

  describe: (run) => `${run.rate.toFixed(1)} logins/s, p50 ${run.p50.toFixed(1)} ms`,

  rows(runs, _all, ctx) {
    const info = ctx.servers.latchkey.info;
    return [
      medianRow({
        id: 'logins.rate',
        label: `Password logins (${IN_FLIGHT} in flight)`,
        unit: '/s',
        runs,
        pick: (run) => run.rate,
        detail:
          `p50 ${medianOf(runs, (r) => r.p50).toFixed(1)} ms, p99 ${medianOf(runs, (r) => r.p99).toFixed(1)} ms; ` +
          `argon2id m=${info.argon2.memoryCost} KiB t=${info.argon2.timeCost}, ` +
          `${info.hashConcurrency} hashing thread(s); ` +
          `server CPU ${medianOf(runs, (r) => r.window.server.cpuCores).toFixed(2)} cores` +
          errorSummary(runs),
        errors: sumErrors(runs),
      }),
    ];
  },
};
