// Months and years are left out on purpose: their length in seconds varies.
const UNIT_SECONDS: Readonly<Record<string, number>> = {
  s: 1,
  m: 60,
  h: 3_600,
  d: 86_400,
  w: 604_800,
};
const DURATION = /^(\d+)([smhdw]?)$/;

/**
 * Whole seconds from a config duration: a number of seconds, or one amount and one unit such as
 * `"30s"`, `"15m"`, `"7d"` (bare digits are seconds). `null` when the value is not a duration.
 */
export function parseDuration(value: unknown): number | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : null;
  if (typeof value !== 'string') return null;
  const match = DURATION.exec(value);
  if (match === null) return null;
  const seconds = Number(match[1]) * (UNIT_SECONDS[match[2] || 's'] ?? Number.NaN);
  // Digits alone can exceed what a double holds exactly; refuse rather than round.
  return Number.isSafeInteger(seconds) ? seconds : null;
}
