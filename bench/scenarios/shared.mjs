// Helpers shared by scenarios.
import { cannon } from '../lib/autocannon.mjs';
import { medianOf, medianRow } from '../lib/report.mjs';
import { dependencyDetail } from './storages.mjs';

/** One autocannon run on `server`: warm-up, then the measured window with the server's stats. */
export async function cannonWindow(ctx, server, options) {
  const { seconds, warmupSeconds } = ctx.settings;
  const target = { ...options, url: server.url };
  if (warmupSeconds > 0) await cannon({ ...target, seconds: warmupSeconds });
  const window = await ctx.window(server);
  const result = await cannon({ ...target, seconds });
  return { ...result, window: await window.end() };
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
  if (ceiling?.length === runs.length) {
    rows.push(
      medianRow({
        id: `${id}.ratio`,
        label: ratioLabel,
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
