// One Latchkey server in a process of its own, for multi-instance tests (see ./instances.ts).
// The parent sends `{ type: 'start', file, redisPrefix }` over IPC; this process validates the
// config exactly as `latchkey serve` would, starts the server, and answers `{ type: 'ready', url }`
// or `{ type: 'failed', error }`. It closes on `{ type: 'stop' }`, or when the parent goes away.
import { validateConfig } from '../../src/config/load.js';
import { startServer, type RunningServer } from '../../src/server.js';

export type InstanceRequest =
  { type: 'start'; file: Record<string, unknown>; redisPrefix?: string } | { type: 'stop' };

export type InstanceReply = { type: 'ready'; url: string } | { type: 'failed'; error: string };

let server: RunningServer | null = null;
let stopping = false;

function reply(message: InstanceReply): void {
  if (process.connected) process.send?.(message);
}

async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  // Whatever hangs in close must not keep the process (and the test run) alive.
  setTimeout(() => process.exit(code), 5000).unref();
  try {
    await server?.close();
  } catch {
    // exiting anyway
  }
  process.exit(code);
}

async function start(request: Extract<InstanceRequest, { type: 'start' }>): Promise<void> {
  try {
    const config = validateConfig(request.file, {});
    server = await startServer(
      config,
      request.redisPrefix === undefined ? {} : { redisPrefix: request.redisPrefix },
    );
    reply({ type: 'ready', url: server.url });
  } catch (error) {
    reply({
      type: 'failed',
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    });
    await stop(1);
  }
}

process.on('message', (message: InstanceRequest) => {
  if (message.type === 'start') void start(message);
  else void stop(0);
});
// The parent exited or was killed: nobody will ever send `stop`.
process.on('disconnect', () => void stop(0));
