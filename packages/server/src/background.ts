// Periodic work of a running server: pick up keys rotated by the CLI or another instance, learn
// revocations other instances logged, and forget what no longer matters.
import type { FastifyBaseLogger } from 'fastify';
import type { LatchkeyServices } from './latchkey.js';

export interface BackgroundTasks {
  /** Runs every task once now (tests and start-up). */
  runOnce(): Promise<void>;
  stop(): void;
}

const REVOCATION_POLL_MS = 1000;
const PRUNE_EVERY_MS = 10 * 60 * 1000;

export function startBackgroundTasks(
  services: LatchkeyServices,
  log: Pick<FastifyBaseLogger, 'warn'>,
): BackgroundTasks {
  // This process delivers its own revocations at once; the log tells it about everyone else's.
  // Reading from the hub's safe cursor re-reads around recent sequence holes until they fill.
  async function followRevocationLog(): Promise<void> {
    const hub = services.revocationHub;
    for (let after = hub.safeCursor(); ;) {
      const events = await services.storage.listRevocations({ after, limit: 500 });
      for (const event of events) hub.publish(event);
      if (events.length < 500) break;
      after = events[events.length - 1]!.seq;
    }
    services.revocations.prune(services.clock.now());
  }

  async function reloadKeys(): Promise<void> {
    await services.keys.reload();
  }

  async function prune(): Promise<void> {
    const now = services.clock.now();
    await services.storage.pruneRevocations(now);
    await services.storage.pruneAudit(now - services.config.audit.retention * 1000);
    await services.storage.pruneKnownDevices(now - services.config.risk.forgetDevicesAfter * 1000);
    await services.keys.pruneExpired();
  }

  function every(ms: number, task: () => Promise<void>, name: string): NodeJS.Timeout {
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      task()
        .catch((error: unknown) => log.warn({ err: error, task: name }, 'background task failed'))
        .finally(() => {
          running = false;
        });
    }, ms);
    timer.unref();
    return timer;
  }

  const timers = [
    every(REVOCATION_POLL_MS, followRevocationLog, 'follow revocations'),
    every(services.config.keys.reloadInterval * 1000, reloadKeys, 'reload keys'),
    every(PRUNE_EVERY_MS, prune, 'prune'),
  ];

  return {
    async runOnce() {
      await followRevocationLog();
      await reloadKeys();
      await prune();
    },
    stop() {
      for (const timer of timers) clearInterval(timer);
    },
  };
}
