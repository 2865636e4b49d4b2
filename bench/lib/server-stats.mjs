// Measured inside a server child, for one window the parent opens and closes over IPC: the
// event-loop delay histogram, CPU used by the whole process (all threads) and how busy the main
// thread was.
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

const NS_PER_MS = 1e6;

export function createServerStats() {
  // resolution 1 ms: an idle loop reads ~1.1 ms, because each sample includes the 1 ms interval.
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  let start = null;

  return {
    /** Opens a window: resets the histogram and remembers CPU and loop utilisation. */
    windowStart() {
      histogram.reset();
      start = {
        at: performance.now(),
        cpu: process.cpuUsage(),
        elu: performance.eventLoopUtilization(),
      };
      return { pid: process.pid };
    },
    /** Closes the window opened last and reports it. */
    windowEnd() {
      if (!start) throw new Error('windowEnd without windowStart');
      const elapsedMs = performance.now() - start.at;
      const cpu = process.cpuUsage(start.cpu);
      const elu = performance.eventLoopUtilization(start.elu);
      const result = {
        elapsedMs,
        eventLoopDelayMs: {
          p50: histogram.percentile(50) / NS_PER_MS,
          p99: histogram.percentile(99) / NS_PER_MS,
          max: histogram.max / NS_PER_MS,
          mean: histogram.mean / NS_PER_MS,
          samples: histogram.count,
        },
        cpuCores: (cpu.user + cpu.system) / 1000 / elapsedMs,
        mainThreadBusy: elu.utilization,
      };
      start = null;
      return result;
    },
  };
}
