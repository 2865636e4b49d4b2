// Rows: @latchkey/verifier's verify() per second in process (no HTTP) on one valid access token,
// with the verified-token cache and without it (cacheSize 0), next to jose's jwtVerify alone in
// the same loop with the same key and token (bench/verifier-throughput.mjs, its own child). All
// three keep the same number of calls in flight. A round alternates short slices of the three
// (order rotated each cycle); a ratio row is the median over rounds of the median over cycles of
// verify ÷ jose, each pair taken from the same cycle, so the drift of this shared box cancels.
import { BENCH_RESOURCE_SERVER } from '../lib/context.mjs';
import { medianOf, medianRow } from '../lib/report.mjs';
import { median } from '../lib/stats.mjs';

const CONCURRENCY = 32;
const SLICE_MS = 250;
const ID = 'verifier-throughput';

const failures = (runs) =>
  runs.reduce(
    (sum, run) => sum + Object.values(run.totals).reduce((s, mode) => s + mode.failed, 0),
    0,
  );

export default {
  id: ID,
  needs: ['latchkey'],

  async prepare(ctx) {
    const args = [
      JSON.stringify({ issuer: ctx.servers.latchkey.url, credential: BENCH_RESOURCE_SERVER }),
    ];
    const child = await ctx.startChild('verifier-throughput.mjs', { name: ID, args });
    const [user] = await ctx.users(1);
    const { access_token: token } = await ctx.api.login(user.email);
    const info = await child.call('prepare', { token });
    return { child, info };
  },

  async measure(ctx, { child, info }) {
    const { seconds, warmupSeconds } = ctx.settings;
    const options = { sliceMs: SLICE_MS, concurrency: CONCURRENCY };
    if (warmupSeconds > 0) await child.call('run', { ...options, seconds: warmupSeconds });
    const window = await ctx.window(child);
    const result = await child.call('run', { ...options, seconds });
    const ratio = (mode) =>
      median(result.cycles.map((cycle) => cycle[mode].rate / cycle.jose.rate));
    return {
      ...info,
      totals: result.totals,
      cycles: result.cycles.length,
      ratios: { uncached: ratio('uncached'), cached: ratio('cached') },
      window: await window.end(),
    };
  },

  describe: (run) =>
    `jose ${Math.round(run.totals.jose.rate)}/s, cache off ${Math.round(run.totals.uncached.rate)}/s ` +
    `(${run.ratios.uncached.toFixed(2)}×), cache on ${Math.round(run.totals.cached.rate)}/s ` +
    `(${run.ratios.cached.toFixed(1)}×)`,

  rows(runs) {
    const rate = (mode) => (run) => run.totals[mode].rate;
    const common =
      `${CONCURRENCY} calls in flight, slices of ${SLICE_MS} ms alternating the three ` +
      `(${medianOf(runs, (r) => r.cycles)} cycles per round); ${runs[0]?.alg} ` +
      `${runs[0]?.tokenBytes}-byte token; process CPU ` +
      `${medianOf(runs, (r) => r.window.server.cpuCores).toFixed(2)} cores`;
    const errors = failures(runs);
    return [
      medianRow({
        id: `${ID}.jose`,
        label: `jose jwtVerify alone, same key and token (${CONCURRENCY} in flight)`,
        unit: '/s',
        runs,
        pick: rate('jose'),
        detail: `the baseline of the two ratios below; ${common}`,
        errors,
      }),
      medianRow({
        id: `${ID}.uncached`,
        label: `Verifier verify(), cache off (cacheSize 0), in process (${CONCURRENCY} in flight)`,
        unit: '/s',
        runs,
        pick: rate('uncached'),
        detail:
          'strict-compact check, header, key lookup, jose, claim parsing, revocation and ' +
          'staleness checks; feed followed',
      }),
      medianRow({
        id: `${ID}.uncached-ratio`,
        label: 'Verifier cache off ÷ jose jwtVerify alone (same cycle)',
        unit: '×',
        runs: runs.map((run) => ({ ...run, value: run.ratios.uncached })),
        pick: (run) => run.value,
        detail: 'median over rounds of the median per-cycle ratio; goal: ≥ jose ÷ 1.2',
        goal: { op: '>=', target: 0.83 },
      }),
      medianRow({
        id: `${ID}.cached`,
        label: `Verifier verify(), verified-token cache on, in process (${CONCURRENCY} in flight)`,
        unit: '/s',
        runs,
        pick: rate('cached'),
        detail: 'cache hit, then revocation and staleness checks; feed followed',
      }),
      medianRow({
        id: `${ID}.cached-ratio`,
        label: 'Verifier cache on ÷ jose jwtVerify alone (same cycle)',
        unit: '×',
        runs: runs.map((run) => ({ ...run, value: run.ratios.cached })),
        pick: (run) => run.value,
        detail: 'its goal is over HTTP: the resource-server ratio to the ceiling',
      }),
    ];
  },
};
