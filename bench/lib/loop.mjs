// A closed-loop load generator for what autocannon cannot do (per-worker state such as a refresh
// family): `concurrency` workers, each awaiting its own task one call after another.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { percentile } from './stats.mjs';

const MAX_ERRORS = 10_000;

/**
 * Starts the workers. `task(worker)` resolves { ok, status?, detail? } or throws (counted as an
 * error). Returns { reset(), stop() }: reset() starts the measured window afresh (after a
 * warm-up); stop() ends it, waits for calls in flight and resolves the summary.
 */
export function startLoop({ concurrency, task }) {
  let stopping = false;
  let windowStart = performance.now();
  let stopAt = Infinity;
  let latencies = [];
  let ok = 0;
  let failed = 0;
  let errors = new Map();

  function recordError(key, detail) {
    failed++;
    const entry = errors.get(key) ?? { count: 0, sample: detail };
    entry.count++;
    errors.set(key, entry);
    if (failed >= MAX_ERRORS) stopping = true; // something is badly wrong: do not spin
  }

  async function worker(index) {
    while (!stopping) {
      const started = performance.now();
      let outcome;
      try {
        outcome = await task(index);
      } catch (error) {
        outcome = { ok: false, status: error?.code ?? 'error', detail: error?.message };
      }
      const finished = performance.now();
      if (started < windowStart || finished > stopAt) continue;
      if (outcome.ok) {
        ok++;
        latencies.push(finished - started);
      } else {
        recordError(String(outcome.status ?? 'failed'), outcome.detail);
      }
    }
  }

  const workers = Array.from({ length: concurrency }, (_, index) => worker(index));

  return {
    reset() {
      windowStart = performance.now();
      latencies = [];
      ok = 0;
      failed = 0;
      errors = new Map();
    },
    async stop() {
      stopAt = performance.now();
      stopping = true;
      await Promise.all(workers);
      const seconds = (stopAt - windowStart) / 1000;
      return {
        ok,
        failed,
        seconds,
        rate: ok / seconds,
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        max: latencies.length ? Math.max(...latencies) : Number.NaN,
        errors: Object.fromEntries(errors),
      };
    },
  };
}

/**
 * startLoop for `warmupSeconds` (discarded), then a measured window of `seconds`. `openWindow`, if
 * given, is called as the measured window starts and its end() as it ends; the summary carries
 * what end() resolved as `window`.
 */
export async function runLoop({ concurrency, seconds, warmupSeconds = 0, task, openWindow }) {
  const loop = startLoop({ concurrency, task });
  if (warmupSeconds > 0) await sleep(warmupSeconds * 1000);
  const window = openWindow ? await openWindow() : null;
  loop.reset();
  await sleep(seconds * 1000);
  const windowResult = window ? await window.end() : undefined;
  return { ...(await loop.stop()), window: windowResult };
}
