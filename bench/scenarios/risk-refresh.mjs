// Row: what the risk checks (core/risk) add to a refresh. Two servers of its own, identical but for
// `risk.enabled`, each with refresh families logged in from real browser user agents, rotated one
// call each in flight. This shared box drifts by more than the few percent being measured, so a
// round alternates short slices (0.5 s, at least 16 pairs) on the two servers, and compares each
// slice's p50 with the next one's on the other server: the round's value is the median of those pairs'
// p50(risk on) ÷ p50(risk off) − 1, and the row the median over rounds. The context stays the same
// from call to call, as for a real client: the steady-state cost (network prefix, user-agent
// family, comparison with the stored session). Geo data is consulted only when a session changes
// network, so neither server has a database configured.
import { setTimeout as sleep } from 'node:timers/promises';
import { createHttpClient } from '../lib/http.mjs';
import { BENCH_PASSWORD, expectStatus, latchkeyApi } from '../lib/latchkey-api.mjs';
import { startLoop } from '../lib/loop.mjs';
import { medianOf, medianRow } from '../lib/report.mjs';
import { median } from '../lib/stats.mjs';
import { errorSummary, mapLimit } from './shared.mjs';

const FAMILIES = 16;
const SLICE_MS = 500;
const MIN_PAIRS = 16;
const USERS = 4;
const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
];
const VARIANTS = [
  { name: 'on', server: 'latchkey-risk-on', config: {} },
  { name: 'off', server: 'latchkey-risk-off', config: { risk: { enabled: false } } },
];

/** A password grant from `agent`: the family remembers that user agent. */
async function loginFrom(http, email, agent) {
  const response = await http.postForm(
    '/v1/token',
    { grant_type: 'password', username: email, password: BENCH_PASSWORD, client_id: 'app' },
    { 'user-agent': agent },
  );
  expectStatus(response, 200, `password grant for ${email}`);
  return JSON.parse(response.text).refresh_token;
}

async function startVariant(ctx, { name, server: serverName, config }) {
  const server = await ctx.startLatchkey(serverName, config);
  const http = createHttpClient(server.url);
  ctx.disposers.push(() => http.close());
  const api = latchkeyApi(http);
  const emails = [];
  for (let i = 0; i < USERS; i++) {
    const email = `bench-risk-${name}-${i}@example.com`;
    await api.signUp(email);
    emails.push(email);
  }
  const agent = (i) => AGENTS[i % AGENTS.length];
  const email = (i) => emails[i % USERS];
  const tokens = await mapLimit(FAMILIES, 4, (i) => loginFrom(http, email(i), agent(i)));
  return { name, server, http, tokens, agent, email };
}

/** One slice of refreshes on `variant`: { ok, failed, rate, p50, p99, errors, … } (lib/loop.mjs). */
async function slice(variant) {
  const { http, tokens, agent, email } = variant;
  const loop = startLoop({
    concurrency: FAMILIES,
    async task(i) {
      const response = await http.postForm(
        '/v1/token',
        { grant_type: 'refresh_token', refresh_token: tokens[i], client_id: 'app' },
        { 'user-agent': agent(i) },
      );
      if (response.status === 200) {
        tokens[i] = JSON.parse(response.text).refresh_token;
        return { ok: true };
      }
      tokens[i] = await loginFrom(http, email(i), agent(i));
      return { ok: false, status: response.status, detail: response.text.slice(0, 200) };
    },
  });
  await sleep(SLICE_MS);
  return loop.stop();
}

/** Sums of slices: calls, failures and errors, and the medians of their p50, p99 and rate. */
function combine(slices) {
  const errors = {};
  for (const s of slices) {
    for (const [status, { count, sample }] of Object.entries(s.errors)) {
      errors[status] = { count: (errors[status]?.count ?? 0) + count, sample };
    }
  }
  return {
    ok: slices.reduce((sum, s) => sum + s.ok, 0),
    failed: slices.reduce((sum, s) => sum + s.failed, 0),
    rate: median(slices.map((s) => s.rate)),
    p50: median(slices.map((s) => s.p50)),
    p99: median(slices.map((s) => s.p99)),
    errors,
  };
}

const overheadPercent = (run) => run.overheadPercent;

export default {
  id: 'risk-refresh',
  storage: 'sqlite',
  needs: [],

  async prepare(ctx) {
    const variants = {};
    for (const variant of VARIANTS) variants[variant.name] = await startVariant(ctx, variant);
    return variants;
  },

  async measure(ctx, variants, round) {
    const order = round % 2 === 0 ? ['on', 'off'] : ['off', 'on'];
    // Warm-up: one slice each, discarded.
    for (const name of order) await slice(variants[name]);
    const window = await ctx.window();
    const slices = { on: [], off: [] };
    // A slice's p50 on this box drifts by more than the effect measured: at least MIN_PAIRS pairs a
    // round, so that the round's median ratio is not one unlucky slice.
    const pairs = Math.max(MIN_PAIRS, Math.round((ctx.settings.seconds * 1000) / (2 * SLICE_MS)));
    for (let i = 0; i < pairs; i++) {
      for (const name of order) slices[name].push(await slice(variants[name]));
    }
    const ratios = slices.on.map((on, i) => on.p50 / slices.off[i].p50);
    return {
      on: combine(slices.on),
      off: combine(slices.off),
      pairs,
      overheadPercent: (median(ratios) - 1) * 100,
      window: await window.end(),
    };
  },

  describe: (run) =>
    `p50 ${run.on.p50.toFixed(2)} ms with risk checks, ${run.off.p50.toFixed(2)} ms without ` +
    `(${overheadPercent(run) >= 0 ? '+' : ''}${overheadPercent(run).toFixed(1)}%)`,

  rows(runs) {
    const side = (name) => runs.map((run) => ({ ...run[name] }));
    return [
      medianRow({
        id: 'risk-refresh.p50-overhead',
        label: `Risk checks per refresh, SQLite: p50 with ÷ without − 1 (${FAMILIES} families, paired slices)`,
        unit: '%',
        runs,
        pick: overheadPercent,
        detail:
          `p50 ${medianOf(runs, (r) => r.on.p50).toFixed(2)} ms with, ` +
          `${medianOf(runs, (r) => r.off.p50).toFixed(2)} ms without; ` +
          `${Math.round(medianOf(runs, (r) => r.on.rate))}/s with, ` +
          `${Math.round(medianOf(runs, (r) => r.off.rate))}/s without; ` +
          `p99 ${medianOf(runs, (r) => r.on.p99).toFixed(1)} / ${medianOf(runs, (r) => r.off.p99).toFixed(1)} ms` +
          errorSummary([...side('on'), ...side('off')]),
        errors: runs.reduce((sum, run) => sum + run.on.failed + run.off.failed, 0),
        goal: { op: '<=', target: 5 },
      }),
    ];
  },
};
