// Helpers shared by scenarios.

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
