// Helpers shared by scenarios.
import { cannon } from '../lib/autocannon.mjs';
import { median } from '../lib/stats.mjs';
import { medianOf, medianRow } from '../lib/report.mjs';
import { dependencyDetail } from './storages.mjs';

/** Seconds of one slice when a scenario is measured in slices paired with the ceiling. */
const PAIRED_SLICE_SECONDS = 1;

/**
 * One measurement of `server` with autocannon. With the ceiling server running (scenarios that
 * report a ratio to it name 'ceiling' in `needs`), the measured time is cut into one-second
 * slices that alternate with slices on the ceiling (ABBA order): the box drifts by more than the
 * goals' margins within seconds, so each ratio compares two neighbouring seconds, and the run's
 * ratio is the median of those. Returns the target's totals (`rps` over its slices), the server's
 * window figures (medians over its slices) and, when paired, `pairedRatio` and `ceilingRps`.
 */
export async function cannonWindow(ctx, server, options) {
  const { seconds, warmupSeconds } = ctx.settings;
  const target = { ...options, url: server.url };
  const ceiling = ctx.servers.ceiling;
  if (warmupSeconds > 0) await cannon({ ...target, seconds: warmupSeconds });
  if (!ceiling) {
    const window = await ctx.window(server);
    const result = await cannon({ ...target, seconds });
    return { ...result, window: await window.end() };
  }
  const reference = { url: ceiling.url, connections: options.connections ?? 50 };
  if (warmupSeconds > 0) await cannon({ ...reference, seconds: warmupSeconds });
  const slices = Math.max(2, Math.round(seconds / PAIRED_SLICE_SECONDS));
  const runs = [];
  const windows = [];
  const ratios = [];
  const ceilingRps = [];
  for (let i = 0; i < slices; i++) {
    const targetFirst = i % 4 === 0 || i % 4 === 3;
    let ceilingRun;
    if (!targetFirst) ceilingRun = await cannon({ ...reference, seconds: PAIRED_SLICE_SECONDS });
    const window = await ctx.window(server);
    const run = await cannon({ ...target, seconds: PAIRED_SLICE_SECONDS });
    windows.push(await window.end());
    if (targetFirst) ceilingRun = await cannon({ ...reference, seconds: PAIRED_SLICE_SECONDS });
    runs.push(run);
    ceilingRps.push(ceilingRun.rps);
    ratios.push(run.rps / ceilingRun.rps);
  }
  const sum = (pick) => runs.reduce((total, run) => total + pick(run), 0);
  const requests = sum((run) => run.requests);
  const measured = sum((run) => run.seconds);
  return {
    rps: requests / measured,
    p50: median(runs.map((run) => run.p50)),
    p99: median(runs.map((run) => run.p99)),
    max: Math.max(...runs.map((run) => run.max)),
    requests,
    non2xx: sum((run) => run.non2xx),
    errors: sum((run) => run.errors),
    timeouts: sum((run) => run.timeouts),
    seconds: measured,
    pairedRatio: median(ratios),
    ceilingRps: median(ceilingRps),
    window: medianOfWindows(windows),
  };
}

/** Window figures of several slices, each number the median over the slices (same shape). */
function medianOfWindows(windows) {
  const [first] = windows;
  if (typeof first === 'number') return median(windows);
  if (first === null || typeof first !== 'object') return first;
  return Object.fromEntries(
    Object.keys(first).map((key) => [key, medianOfWindows(windows.map((w) => w?.[key]))]),
  );
}

/**
 * The rows of an autocannon scenario on Latchkey: req/s (with p99, server CPU, main-thread
 * utilisation and event-loop delay as detail, and PostgreSQL's and Redis's CPU where they serve
 * it) and, when the ceiling ran in the same rounds, the median of the per-round ratios to it.
 */
export function cannonRows({ id, label, ratioLabel, goal, runs, ceiling }) {
  const rows = [
    medianRow({
      id: `${id}.rps`,
      label,
      unit: 'req/s',
      runs,
      pick: (run) => run.rps,
      detail:
        `p99 ${medianOf(runs, (r) => r.p99)} ms; ` +
        `server CPU ${medianOf(runs, (r) => r.window.server.cpuCores).toFixed(2)} cores, ` +
        `main thread ${(medianOf(runs, (r) => r.window.server.mainThreadBusy) * 100).toFixed(0)}% busy; ` +
        `event-loop p99 ${medianOf(runs, (r) => r.window.server.eventLoopDelayMs.p99).toFixed(1)} ms` +
        dependencyDetail(runs, medianOf),
      errors: runs.reduce((sum, r) => sum + r.non2xx + r.errors, 0),
    }),
  ];
  const paired = runs.every((run) => run.pairedRatio !== undefined);
  if (paired || ceiling?.length === runs.length) {
    rows.push(
      medianRow({
        id: `${id}.ratio`,
        label: ratioLabel,
        unit: '×',
        runs: runs.map((run, i) => ({
          ratio: paired ? run.pairedRatio : run.rps / ceiling[i].rps,
          window: {
            machine: {
              otherCores: Math.max(
                run.window.machine?.otherCores ?? 0,
                ceiling?.[i]?.window.machine?.otherCores ?? 0,
              ),
            },
          },
        })),
        pick: (run) => run.ratio,
        detail: paired
          ? 'per round: the median ratio of neighbouring one-second slices on it and the ceiling; median of the rounds'
          : 'median of the per-round ratios',
        goal,
      }),
    );
  }
  return rows;
}

/** Runs fn(0..count-1) with at most `limit` in flight; resolves the results in order. */
export async function mapLimit(count, limit, fn) {
  const results = new Array(count);
  let next = 0;
  async function lane() {
    while (next < count) {
      const index = next++;
      results[index] = await fn(index);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, count) }, lane));
  return results;
}

/** Failed calls over all runs of a custom loop. */
export function sumErrors(runs) {
  return runs.reduce((sum, run) => sum + run.failed, 0);
}

/** "; errors: 400 ×3 (sample…)" for the detail column, or "" when every call succeeded. */
export function errorSummary(runs) {
  const merged = new Map();
  for (const run of runs) {
    for (const [status, { count, sample }] of Object.entries(run.errors ?? {})) {
      const entry = merged.get(status) ?? { count: 0, sample };
      entry.count += count;
      merged.set(status, entry);
    }
  }
  if (merged.size === 0) return '';
  const parts = [...merged].map(
    ([status, { count, sample }]) => `${status} ×${count} (${String(sample ?? '').slice(0, 80)})`,
  );
  return `; errors: ${parts.join(', ')}`;
}
