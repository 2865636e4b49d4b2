// Rows: does a failed login take as long for an unknown email as for a wrong password? (API.md:
// "indistinguishable timing"; the server verifies unknown emails against a dummy argon2id hash.)
// Per login endpoint, sequential requests on one keep-alive connection, strictly alternating the
// two kinds, after a warm-up; the medians of the round-trip times and their relative difference.
// Both kinds send the same wrong password and emails of the same length, so they differ only in
// whether the account exists. Measured once, after the rounds, with the servers otherwise idle.
//
// Throttling: failed logins are limited per account and per IP (API.md). A 429 is counted, shown
// in the detail and left out of the medians; after one on the wrong-password side that side moves
// to a freshly signed-up account (the unknown-email side uses a new email every time anyway).
import { DISTURBED_CORES } from '../lib/report.mjs';
import { median, percentile } from '../lib/stats.mjs';

const SAMPLES = 200; // per kind and endpoint
const WARMUP = 20; // per kind and endpoint, not measured
const MAX_THROTTLED = 50; // per endpoint: beyond this, the IP is throttled and timing is moot
const WRONG_PASSWORD = 'latchkey-bench-Wrong-Harbour-0000';

const ENDPOINTS = [
  {
    key: 'session',
    label: 'POST /v1/session',
    failure: 401,
    call: (api, email) => api.sessionLogin(email, WRONG_PASSWORD),
  },
  {
    key: 'token',
    label: 'POST /v1/token (password grant)',
    failure: 400,
    call: (api, email) => api.passwordGrant(email, WRONG_PASSWORD),
  },
];

// Same length for both kinds: only whether the account exists differs.
const accountEmail = (key, n) => `bench-known-${key}-${String(n).padStart(4, '0')}@example.com`;
const unknownEmail = (key, n) => `bench-ghost-${key}-${String(n).padStart(4, '0')}@example.com`;

async function timeEndpoint(ctx, endpoint) {
  let account = 0;
  await ctx.api.signUp(accountEmail(endpoint.key, account));
  const ms = { unknown: [], wrong: [] };
  const throttled = { unknown: 0, wrong: 0 };
  const unexpected = {};
  let stoppedEarly = false;

  const window = await ctx.window(ctx.servers.latchkey);
  for (let i = 0; i < WARMUP + SAMPLES && !stoppedEarly; i++) {
    for (const kind of ['unknown', 'wrong']) {
      const email =
        kind === 'unknown' ? unknownEmail(endpoint.key, i) : accountEmail(endpoint.key, account);
      const response = await endpoint.call(ctx.api, email);
      if (response.status === endpoint.failure) {
        if (i >= WARMUP) ms[kind].push(response.ms);
      } else if (response.status === 429) {
        throttled[kind]++;
        if (throttled.unknown + throttled.wrong > MAX_THROTTLED) stoppedEarly = true;
        else if (kind === 'wrong') await ctx.api.signUp(accountEmail(endpoint.key, ++account));
      } else {
        const entry = (unexpected[response.status] ??= { count: 0, sample: response.text });
        entry.count++;
      }
    }
  }
  return {
    ms,
    throttled,
    unexpected,
    accounts: account + 1,
    stoppedEarly,
    window: await window.end(),
  };
}

function summarize(run) {
  const stats = (values) => ({
    n: values.length,
    median: median(values),
    p25: percentile(values, 25),
    p75: percentile(values, 75),
  });
  const unknown = stats(run.ms.unknown);
  const wrong = stats(run.ms.wrong);
  // Signed: positive when unknown emails are slower. Relative to the wrong-password median.
  const relative = ((unknown.median - wrong.median) / wrong.median) * 100;
  return { unknown, wrong, relative };
}

export default {
  id: 'login-timing',
  schedule: 'once',
  storage: 'sqlite',
  needs: ['latchkey'],

  async measure(ctx) {
    const endpoints = {};
    for (const endpoint of ENDPOINTS) endpoints[endpoint.key] = await timeEndpoint(ctx, endpoint);
    return { endpoints };
  },

  describe: (run) =>
    ENDPOINTS.map(({ key }) => {
      const { unknown, wrong, relative } = summarize(run.endpoints[key]);
      return (
        `${key}: unknown ${unknown.median.toFixed(2)} ms, wrong password ` +
        `${wrong.median.toFixed(2)} ms (${relative >= 0 ? '+' : ''}${relative.toFixed(1)}%)`
      );
    }).join('; '),

  rows([run]) {
    return ENDPOINTS.map((endpoint) => {
      const result = run.endpoints[endpoint.key];
      const { unknown, wrong, relative } = summarize(result);
      const range = (s) => `${s.p25.toFixed(1)}–${s.p75.toFixed(1)}`;
      const throttled = result.throttled.unknown + result.throttled.wrong;
      const unexpected = Object.entries(result.unexpected);
      const notes = [];
      if (throttled > 0) {
        notes.push(
          `429 rate_limited ×${throttled} (unknown ${result.throttled.unknown}, ` +
            `wrong ${result.throttled.wrong}; left out; ${result.accounts} accounts used` +
            `${result.stoppedEarly ? '; stopped early' : ''})`,
        );
      }
      for (const [status, { count, sample }] of unexpected) {
        notes.push(`${status} ×${count} (${String(sample).slice(0, 80)})`);
      }
      return {
        id: `login-timing.${endpoint.key}`,
        label: `Failed login timing, ${endpoint.label}: unknown email vs wrong password (|Δ| of medians)`,
        unit: '%',
        value: Math.abs(relative),
        perRun: [Math.abs(relative)],
        disturbed: [(result.window.machine?.otherCores ?? 0) > DISTURBED_CORES],
        detail:
          `medians: unknown email ${unknown.median.toFixed(2)} ms (p25–p75 ${range(unknown)}), ` +
          `wrong password ${wrong.median.toFixed(2)} ms (${range(wrong)}); unknown ` +
          `${relative >= 0 ? '+' : ''}${relative.toFixed(1)}%; ${unknown.n} + ${wrong.n} sequential ` +
          `requests, alternating, after ${WARMUP} + ${WARMUP} warm-up; ${endpoint.failure} expected` +
          (notes.length ? `; ${notes.join('; ')}` : ''),
        errors: throttled + unexpected.reduce((sum, [, { count }]) => sum + count, 0),
        goal: { op: '<', target: 5 },
      };
    });
  },
};
