// Row: refresh-token rotations per second, once per storage. Each worker owns one refresh family
// and rotates it one call after another, as a client would; every response must be 200 (a failure
// is counted and the worker starts a new family with a password grant).
import { runLoop } from '../lib/loop.mjs';
import { medianOf, medianRow } from '../lib/report.mjs';
import { mapLimit, sumErrors, errorSummary } from './shared.mjs';
import { SQLITE, dependencyDetail } from './storages.mjs';

const FAMILIES = 32;
const USERS = 8;

/** The scenario on `storage` (scenarios/storages.mjs) with its goal in rotations per second. */
export function refresh(storage, { goal }) {
  const id = `${storage.idPrefix}refresh`;
  return {
    id,
    storage: storage.id,
    needs: [storage.server],

    async prepare(ctx) {
      const api = ctx.apiFor(storage.server);
      const users = await ctx.users(USERS, storage.server);
      const tokens = await mapLimit(FAMILIES, 4, async (i) => {
        const body = await api.login(users[i % USERS].email);
        return body.refresh_token;
      });
      return { users, tokens };
    },

    async measure(ctx, { users, tokens }) {
      const server = ctx.servers[storage.server];
      const api = ctx.apiFor(storage.server);
      return runLoop({
        concurrency: FAMILIES,
        seconds: ctx.settings.seconds,
        warmupSeconds: Math.min(1, ctx.settings.warmupSeconds),
        openWindow: () => ctx.window(server),
        async task(i) {
          const response = await api.refresh(tokens[i]);
          if (response.status === 200) {
            tokens[i] = JSON.parse(response.text).refresh_token;
            return { ok: true };
          }
          tokens[i] = (await api.login(users[i % USERS].email)).refresh_token;
          return { ok: false, status: response.status, detail: response.text.slice(0, 200) };
        },
      });
    },

    describe: (run) =>
      `${Math.round(run.rate)} rotations/s, p99 ${run.p99.toFixed(1)} ms, ${run.failed} failed`,

    rows(runs) {
      return [
        medianRow({
          id: `${id}.rate`,
          label: `Refresh rotations, ${storage.label} (${FAMILIES} families, one call each in flight)`,
          unit: '/s',
          runs,
          pick: (run) => run.rate,
          detail:
            `p50 ${medianOf(runs, (r) => r.p50).toFixed(1)} ms, p99 ${medianOf(runs, (r) => r.p99).toFixed(1)} ms; ` +
            `server CPU ${medianOf(runs, (r) => r.window.server.cpuCores).toFixed(2)} cores, ` +
            `main thread ${(medianOf(runs, (r) => r.window.server.mainThreadBusy) * 100).toFixed(0)}% busy` +
            dependencyDetail(runs, medianOf) +
            errorSummary(runs),
          errors: sumErrors(runs),
          goal: { op: '>=', target: goal },
        }),
      ];
    },
  };
}

export default refresh(SQLITE, { goal: 2000 });
