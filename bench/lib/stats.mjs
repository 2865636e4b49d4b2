// Small statistics helpers: medians of runs, percentiles of latency samples.

/** Numbers sorted ascending, as a new array. */
export function sorted(values) {
  return Float64Array.from(values).sort();
}

/** The median of `values` (the mean of the two middle values for an even count); NaN if empty. */
export function median(values) {
  if (values.length === 0) return Number.NaN;
  const s = sorted(values);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Nearest-rank percentile (p in 0..100) of `values`; NaN if empty. */
export function percentile(values, p) {
  if (values.length === 0) return Number.NaN;
  const s = sorted(values);
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length - 1, Math.max(0, rank - 1))];
}

/** Median, min and max of per-run values, ignoring runs that produced no number. */
export function spread(values) {
  const finite = values.filter((v) => Number.isFinite(v));
  return {
    median: median(finite),
    min: finite.length ? Math.min(...finite) : Number.NaN,
    max: finite.length ? Math.max(...finite) : Number.NaN,
    n: finite.length,
  };
}
