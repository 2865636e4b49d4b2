// One place that knows what must be undone when the benchmark ends, however it ends: child
// processes (by PID) and temporary data directories. Every action is synchronous so that it can
// also run from the process 'exit' event, after a signal, or after an uncaught error.
import { rmSync } from 'node:fs';

const actions = new Map();
let nextId = 1;
let installed = false;

/** Registers `action` (synchronous); returns a function that runs it once and unregisters it. */
export function onCleanup(label, action) {
  const id = nextId++;
  actions.set(id, { label, action });
  return () => {
    const entry = actions.get(id);
    if (!entry) return;
    actions.delete(id);
    entry.action();
  };
}

/** Registers removal of a temporary directory. */
export function removeDirOnCleanup(dir) {
  return onCleanup(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
}

/** Runs every pending action, newest first; never throws. */
export function cleanupAll() {
  for (const [id, { label, action }] of [...actions].reverse()) {
    actions.delete(id);
    try {
      action();
    } catch (error) {
      process.stderr.write(`cleanup: ${label} failed: ${error?.message ?? error}\n`);
    }
  }
}

/** Cleans up on normal exit, on SIGINT/SIGTERM/SIGHUP and on uncaught errors. */
export function installCleanupHandlers() {
  if (installed) return;
  installed = true;
  process.on('exit', cleanupAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      process.stderr.write(`\nbench: ${signal}, cleaning up\n`);
      cleanupAll();
      process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
    });
  }
  for (const event of ['uncaughtException', 'unhandledRejection']) {
    process.on(event, (error) => {
      process.stderr.write(`bench: ${event}: ${error?.stack ?? error}\n`);
      cleanupAll();
      process.exit(1);
    });
  }
}
