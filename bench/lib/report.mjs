// Rows of the result table and their rendering as Markdown. A row is plain data (it also goes to
// the JSON file):
//   { id, label, unit, value, perRun?: number[], disturbed?: boolean[], detail?, errors?, goal? }
// goal: { op: '>=' | '<=' | '<', target } in the row's unit.
import { median } from './stats.mjs';

/** Other processes' CPU (cores) above which a run is marked disturbed. */
export const DISTURBED_CORES = 0.25;

/** A row whose value is the median over runs of `pick(run)`. */
export function medianRow({ id, label, unit, runs, pick, detail, errors, goal }) {
  const perRun = runs.map(pick);
  return {
    id,
    label,
    unit,
    value: median(perRun.filter(Number.isFinite)),
    perRun,
    disturbed: runs.map((run) => (run.window?.machine?.otherCores ?? 0) > DISTURBED_CORES),
    ...(detail !== undefined ? { detail } : {}),
    errors: errors ?? 0,
    ...(goal ? { goal } : {}),
  };
}

/** The median over runs of a number inside each run, for detail text. */
export function medianOf(runs, pick) {
  return median(runs.map(pick).filter(Number.isFinite));
}

export function formatNumber(value, unit) {
  if (!Number.isFinite(value)) return '—';
  if (unit === '×') return value.toFixed(2);
  if (unit === 'B') return value.toLocaleString('en-US', { maximumFractionDigits: 0 });
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return value.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

export function withUnit(value, unit) {
  const text = formatNumber(value, unit);
  if (text === '—' || unit === '×') return text;
  return unit.startsWith('/') ? `${text}${unit}` : `${text} ${unit}`;
}

/** { met, text } for a row with a goal, or null. */
export function goalStatus(row) {
  if (!row.goal) return null;
  const { op, target } = row.goal;
  const value = row.value;
  const shown =
    Number.isInteger(target) && row.unit !== '×'
      ? withUnit(target, row.unit).replace(/\.0+(?=\D|$)/, '')
      : withUnit(target, row.unit);
  const wanted = `${{ '>=': '≥', '<=': '≤', '<': '<' }[op]} ${shown}`;
  if (!Number.isFinite(value)) return { met: false, text: `${wanted}: no result` };
  const met = op === '>=' ? value >= target : op === '<=' ? value <= target : value < target;
  if (met) return { met, text: `${wanted} ✅` };
  const off = (Math.abs(value - target) / target) * 100;
  return { met, text: `${wanted} ❌ ${op === '>=' ? 'short' : 'over'} by ${off.toFixed(0)}%` };
}

function escapeCell(text) {
  return String(text).replaceAll('|', '\\|').replaceAll('\n', ' ');
}

export function markdownTable(headers, rows, align) {
  const line = (cells) => `| ${cells.map(escapeCell).join(' | ')} |`;
  const rule = headers.map((_, i) => (align?.[i] === 'right' ? '---:' : '---'));
  return [line(headers), line(rule), ...rows.map(line)].join('\n');
}

export function renderMarkdown({ rows, meta }) {
  const table = markdownTable(
    ['measurement', 'median', 'per run', 'detail (medians)', 'errors', 'goal'],
    rows.map((row) => [
      row.label,
      withUnit(row.value, row.unit),
      (row.perRun ?? [])
        .map((v, i) => formatNumber(v, row.unit) + (row.disturbed?.[i] ? ' †' : ''))
        .join(' / '),
      row.detail ?? '',
      row.errors ?? 0,
      goalStatus(row)?.text ?? '',
    ]),
    ['left', 'right', 'right', 'left', 'right', 'left'],
  );
  const lines = [
    `## Latchkey benchmark (${meta.finishedAt})`,
    '',
    `${meta.machine.description}; commit ${meta.commit}; ${meta.method}.`,
    '',
    table,
    '',
  ];
  if (rows.some((row) => row.disturbed?.some(Boolean))) {
    lines.push(
      `† run disturbed: other processes used more than ${DISTURBED_CORES} cores while it ran.`,
      '',
    );
  }
  for (const note of meta.notes ?? []) lines.push(note, '');
  const missed = rows.filter((row) => goalStatus(row)?.met === false);
  lines.push(
    missed.length === 0
      ? 'Goals: all met.'
      : `Goals missed: ${missed.map((row) => row.label).join('; ')}.`,
    '',
    `Reproduce: \`${meta.command}\` (from the repository root; results also in ${meta.jsonPath}).`,
  );
  return lines.join('\n');
}
