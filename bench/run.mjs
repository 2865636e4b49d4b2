// `npm run bench`: Latchkey's performance table. Starts the servers under test as child
// processes on 127.0.0.1, runs every scenario (scenarios/index.mjs) for a few interleaved rounds,
// prints a Markdown table of medians to stdout (progress goes to stderr) and writes the same
// results as JSON. Bounded in time, and cleans up its children and temporary data on any exit.
//
// Options: --rounds N (3) --seconds S per measurement (5) --warmup S (1) --only id,id
//          --storage auto | sqlite | postgres-redis | sqlite,postgres-redis (auto: SQLite, and
//            PostgreSQL+Redis too when both answer on 127.0.0.1)
//          --out FILE (bench/results/latest.json) --timeout S (whole run, 900)
//          --profile (CPU profile of the Latchkey server into bench/results/profiles/)
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cleanupAll, installCleanupHandlers } from './lib/cleanup.mjs';
import { createContext } from './lib/context.mjs';
import { probePostgresRedis } from './lib/postgres-redis.mjs';
import { DISTURBED_CORES, renderMarkdown } from './lib/report.mjs';
import { SCENARIOS } from './scenarios/index.mjs';
import { POSTGRES_REDIS, STORAGES } from './scenarios/storages.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// Before each measurement: wait for other processes to calm down, at most this long each time and
// this long in all (the machine is shared; a run that stays disturbed is marked in the table).
const MAX_QUIET_WAIT_SECONDS = 15;
const QUIET_BUDGET_SECONDS = 60;

const DEFAULTS = { rounds: '3', seconds: '5', warmup: '1', timeout: '900', storage: 'auto' };

function parseSettings(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      rounds: { type: 'string', default: DEFAULTS.rounds },
      seconds: { type: 'string', default: DEFAULTS.seconds },
      warmup: { type: 'string', default: DEFAULTS.warmup },
      only: { type: 'string' },
      storage: { type: 'string', default: DEFAULTS.storage },
      out: { type: 'string', default: resolve(ROOT, 'bench/results/latest.json') },
      timeout: { type: 'string', default: DEFAULTS.timeout },
      profile: { type: 'boolean', default: false },
    },
  });
  const number = (name, min) => {
    const value = Number(values[name]);
    if (!Number.isFinite(value) || value < min) throw new Error(`--${name} must be ≥ ${min}`);
    return value;
  };
  const settings = {
    rounds: Math.round(number('rounds', 1)),
    seconds: number('seconds', 0.5),
    warmupSeconds: number('warmup', 0),
    timeoutSeconds: number('timeout', 10),
    only: values.only ? values.only.split(',').map((id) => id.trim()) : null,
    storage: parseStorage(values.storage),
    out: resolve(values.out),
    // V8 CPU profile of the Latchkey server, written when it stops (node --cpu-prof).
    profileDir: values.profile ? resolve(ROOT, 'bench/results/profiles') : null,
    maxQuietWaitSeconds: MAX_QUIET_WAIT_SECONDS,
    quietBudgetSeconds: QUIET_BUDGET_SECONDS,
  };
  // Shorter runs get proportionally smaller microbenchmark batches.
  settings.microScale = Math.min(1, settings.seconds / 5);
  const args = [];
  for (const name of ['rounds', 'seconds', 'warmup', 'storage']) {
    if (values[name] !== DEFAULTS[name]) args.push(`--${name} ${values[name]}`);
  }
  if (values.only) args.push(`--only ${values.only}`);
  if (values.profile) args.push('--profile');
  settings.command = `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`;
  return settings;
}

/** 'auto', or the list of storages asked for by name (scenarios/storages.mjs). */
function parseStorage(value) {
  if (value === 'auto') return 'auto';
  const names = value.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !STORAGES.some((storage) => storage.id === name));
  if (unknown.length || names.length === 0) {
    throw new Error(
      `--storage: "${value}" is not auto or a list of ${STORAGES.map((s) => s.id).join(', ')}`,
    );
  }
  return names;
}

/**
 * The scenarios to run: --only's, or all, on the storages asked for. With --storage auto the
 * PostgreSQL+Redis ones are left out (and the report says why) when either does not answer; a
 * run that names them fails instead.
 */
async function selectScenarios(settings, log) {
  const unknown = (settings.only ?? []).filter((id) => !SCENARIOS.some((s) => s.id === id));
  if (unknown.length) throw new Error(`unknown scenario(s): ${unknown.join(', ')}`);
  const named = settings.only ? SCENARIOS.filter((s) => settings.only.includes(s.id)) : SCENARIOS;
  const auto = settings.storage === 'auto';
  const wanted = auto ? STORAGES.map((s) => s.id) : settings.storage;
  let scenarios = named.filter((s) => s.storage === undefined || wanted.includes(s.storage));
  const excluded = named.filter((s) => !scenarios.includes(s)).map((s) => s.id);
  if (settings.only && excluded.length) {
    throw new Error(`${excluded.join(', ')}: not on --storage ${settings.storage.join(',')}`);
  }
  const notes = [];
  if (scenarios.some((s) => s.storage === POSTGRES_REDIS.id)) {
    const problem = await probePostgresRedis();
    const needing = scenarios.filter((s) => s.storage === POSTGRES_REDIS.id).map((s) => s.id);
    if (problem !== null && (!auto || settings.only)) {
      throw new Error(`${needing.join(', ')} need PostgreSQL and Redis: ${problem}`);
    }
    if (problem !== null) {
      scenarios = scenarios.filter((s) => s.storage !== POSTGRES_REDIS.id);
      const note = `${POSTGRES_REDIS.label} rows left out (--storage auto): ${problem}.`;
      log(note);
      notes.push(note);
    }
  }
  return { scenarios, notes };
}

const t0 = performance.now();
function log(message) {
  const seconds = ((performance.now() - t0) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[${seconds}s] ${message}\n`);
}

function describeMachine() {
  const list = cpus();
  const model = list[0]?.model?.trim() ?? 'unknown CPU';
  return {
    node: process.version,
    cpus: list.length,
    model,
    loadavg: loadavg(),
    description: `Node ${process.version}, ${list.length} × ${model}, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} at start`,
  };
}

function gitCommit() {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT })
      .toString()
      .trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: ROOT,
    })
      .toString()
      .trim();
    return dirty ? `${commit} (with uncommitted changes)` : commit;
  } catch {
    return 'unknown';
  }
}

async function quiet(ctx) {
  const { waitedMs, otherCores } = await ctx.quiet();
  if (waitedMs >= 100) {
    log(
      `waited ${(waitedMs / 1000).toFixed(1)} s for other processes to calm down ` +
        `(now ${otherCores?.toFixed(2)} cores)`,
    );
  }
}

function disturbance(run) {
  const other = run.window?.machine?.otherCores;
  return other > DISTURBED_CORES ? ` († other processes used ${other.toFixed(2)} cores)` : '';
}

async function main() {
  const settings = parseSettings(process.argv.slice(2));
  installCleanupHandlers();
  const watchdog = setTimeout(() => {
    log(`timeout: the run exceeded ${settings.timeoutSeconds} s; stopping`);
    cleanupAll();
    process.exit(2);
  }, settings.timeoutSeconds * 1000);
  watchdog.unref();

  const { scenarios, notes } = await selectScenarios(settings, log);
  const interleaved = scenarios.filter((s) => (s.schedule ?? 'interleaved') === 'interleaved');
  const once = scenarios.filter((s) => s.schedule === 'once');

  const machine = describeMachine();
  const startedAt = new Date().toISOString();
  log(`${machine.description}`);
  log(
    `${settings.rounds} rounds × ${interleaved.length} interleaved scenarios, ` +
      `${settings.warmupSeconds} s warm-up + ${settings.seconds} s each; then ${once.length} once`,
  );

  const ctx = await createContext({
    settings,
    needs: scenarios.flatMap((s) => s.needs ?? []),
    log,
  });
  const runs = Object.fromEntries(scenarios.map((s) => [s.id, []]));
  let rows;
  try {
    const states = new Map();
    for (const scenario of scenarios) {
      if (!scenario.prepare) continue;
      log(`prepare ${scenario.id}`);
      states.set(scenario.id, await scenario.prepare(ctx));
    }
    for (let round = 0; round < settings.rounds; round++) {
      const order = round % 2 === 0 ? interleaved : [...interleaved].reverse();
      for (const scenario of order) {
        await quiet(ctx);
        const run = await scenario.measure(ctx, states.get(scenario.id), round);
        runs[scenario.id].push(run);
        log(
          `round ${round + 1}/${settings.rounds} ${scenario.id}: ${scenario.describe?.(run) ?? 'done'}` +
            disturbance(run),
        );
      }
    }
    for (const scenario of once) {
      await quiet(ctx);
      log(`${scenario.id} …`);
      const run = await scenario.measure(ctx, states.get(scenario.id), 0);
      runs[scenario.id].push(run);
      log(`${scenario.id}: ${scenario.describe?.(run) ?? 'done'}`);
    }
    rows = scenarios.flatMap((s) => s.rows(runs[s.id], runs, ctx));
  } finally {
    log('stopping servers');
    await ctx.close();
  }

  const inRepo = !relative(ROOT, settings.out).startsWith('..');
  const jsonPath = inRepo ? relative(ROOT, settings.out) : settings.out;
  const meta = {
    startedAt,
    finishedAt: new Date().toISOString(),
    command: settings.command,
    commit: gitCommit(),
    machine,
    settings,
    method:
      `${settings.rounds} interleaved rounds of ${settings.seconds} s per measurement ` +
      `after ${settings.warmupSeconds} s warm-up, loopback; the load generator shares the cores ` +
      `with the server`,
    jsonPath,
    storages: [...new Set(scenarios.map((s) => s.storage).filter(Boolean))],
    notes,
  };
  const markdown = renderMarkdown({ rows, meta });
  mkdirSync(dirname(settings.out), { recursive: true });
  writeFileSync(settings.out, JSON.stringify({ meta, rows, runs, markdown }, null, 2) + '\n');
  process.stdout.write(markdown + '\n');
  log(`done in ${((performance.now() - t0) / 1000).toFixed(0)} s; JSON: ${jsonPath}`);
}

try {
  await main();
} catch (error) {
  log(`failed: ${error?.stack ?? error}`);
  cleanupAll();
  process.exitCode = 1;
}
