// What else the machine did during a measurement: CPU used by all processes (/proc/stat) minus
// CPU used by ours (/proc/<pid>/stat, all threads). On a shared box this says whether a run was
// disturbed. Linux only; elsewhere it reports nothing.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const TICKS_PER_SECOND = 100; // USER_HZ: 100 on every mainstream Linux build

function busyTicks() {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/);
  // user nice system idle iowait irq softirq steal …: busy is everything but idle and iowait.
  const [user, nice, system, , , irq, softirq, steal] = fields.slice(1).map(Number);
  return user + nice + system + irq + softirq + (steal || 0);
}

function processTicks(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces: fields start after its closing parenthesis.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime, stime
  } catch {
    return 0;
  }
}

/** Starts a CPU window over `pids` (ours); end() resolves { totalCores, oursCores, otherCores }. */
export function cpuWindow(pids) {
  let start;
  try {
    start = {
      at: performance.now(),
      busy: busyTicks(),
      ours: pids.map(processTicks),
    };
  } catch {
    return { end: () => null };
  }
  return {
    end() {
      const seconds = (performance.now() - start.at) / 1000;
      const busy = busyTicks() - start.busy;
      const ours = pids.map(processTicks).reduce((sum, t, i) => sum + t - start.ours[i], 0);
      const cores = (ticks) => ticks / TICKS_PER_SECOND / seconds;
      return {
        totalCores: cores(busy),
        oursCores: cores(ours),
        otherCores: Math.max(0, cores(busy - ours)),
      };
    },
  };
}

/**
 * Waits until other processes use at most `thresholdCores` over a `sampleMs` sample, for up to
 * `maxWaitMs`. Resolves { waitedMs, otherCores } (otherCores of the last sample; null if unknown).
 */
export async function waitForQuiet({ pids, thresholdCores, maxWaitMs, sampleMs = 500 }) {
  const started = performance.now();
  for (;;) {
    const window = cpuWindow(pids);
    await new Promise((resolve) => setTimeout(resolve, sampleMs));
    const sample = window.end();
    const waitedMs = performance.now() - started - sampleMs;
    if (!sample) return { waitedMs: 0, otherCores: null };
    if (sample.otherCores <= thresholdCores || waitedMs + sampleMs > maxWaitMs) {
      return { waitedMs: Math.max(0, waitedMs), otherCores: sample.otherCores };
    }
  }
}
