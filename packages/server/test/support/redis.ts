// Redis for tests: where it is, whether it answers, throwaway key prefixes, and a private
// redis-server that a fault test may kill and start again. Like ./postgres.ts: outside CI an
// unreachable Redis skips the tests that need it; in CI (CI=true) it fails them.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { postgresUnavailable } from './postgres.js';
import { TcpLink } from './tcp-link.js';

/** The shared test Redis: LATCHKEY_TEST_REDIS_URL, else the one this machine runs. */
export const REDIS_TEST_URL = process.env['LATCHKEY_TEST_REDIS_URL'] || 'redis://127.0.0.1:6379';

/** The URL without its password, for messages. */
function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = '';
    return parsed.toString();
  } catch {
    return 'the configured URL';
  }
}

/** A client that fails at once instead of reconnecting: for probes and test-side inspection. */
export function testRedisClient(url = REDIS_TEST_URL): Redis {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  return client;
}

/** Runs `work` with a connected test client and always disconnects it. */
export async function withRedis<T>(
  work: (client: Redis) => Promise<T>,
  url = REDIS_TEST_URL,
): Promise<T> {
  const client = testRedisClient(url);
  try {
    await client.connect();
    return await work(client);
  } finally {
    client.disconnect();
  }
}

let probe: Promise<string | null> | undefined;

/** `null` when Redis answers PING at the test URL, else why not. Asked once per process. */
export function redisUnavailable(): Promise<string | null> {
  probe ??= withRedis((client) => client.ping()).then(
    () => null,
    (error: unknown) =>
      `Redis unreachable at ${describeUrl(REDIS_TEST_URL)}: ${error instanceof Error ? error.message : String(error)}`,
  );
  return probe;
}

/** Whether a `redis-server` binary can be started (for tests that run a private one). */
export function redisServerMissing(): string | null {
  const result = spawnSync('redis-server', ['--version'], { stdio: 'ignore', timeout: 5000 });
  return result.error || result.status !== 0
    ? 'redis-server is not installed (needed to start a private Redis for fault tests)'
    : null;
}

/**
 * For `describe(name, { skip: await scaleSkip() }, ...)`: a message naming every missing service,
 * or `false`. With CI=true a missing service throws: CI must not pass by skipping these tests.
 */
export async function scaleSkip(options: { privateRedis?: boolean } = {}): Promise<string | false> {
  const reasons = [
    await postgresUnavailable(),
    await redisUnavailable(),
    options.privateRedis ? redisServerMissing() : null,
  ].filter((reason): reason is string => reason !== null);
  if (reasons.length === 0) return false;
  const message = `needs PostgreSQL and Redis: ${reasons.join('; ')}`;
  if (process.env['CI'] === 'true') throw new Error(`${message} (CI=true: not skipping)`);
  return message;
}

/** A random key prefix, so parallel test files never see each other's keys or channels. */
export function randomRedisPrefix(): string {
  return `lk_test_${randomBytes(6).toString('hex')}:`;
}

/** Deletes every key under `prefix`; never throws (a test's Redis may be down on purpose). */
export async function deleteRedisKeys(prefix: string, url = REDIS_TEST_URL): Promise<void> {
  try {
    await withRedis(async (client) => {
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        if (keys.length > 0) await client.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    }, url);
  } catch {
    // The keys expire on their own.
  }
}

/**
 * A redis-server of the test's own on a fixed port, without persistence: `kill()` is a crash
 * (SIGKILL), `start()` brings it back on the same port, empty.
 */
export class PrivateRedis {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private output = '';

  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.child) throw new Error('private redis-server already running');
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--daemonize',
        'no',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const collect = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-4000);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.child = child;
    this.exited = new Promise((resolve) => {
      child.once('exit', () => {
        if (this.child === child) this.child = null;
        resolve();
      });
    });
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (!this.child) throw new Error(`redis-server exited at start:\n${this.output}`);
      try {
        await withRedis((client) => client.ping(), this.url);
        return;
      } catch (error) {
        if (Date.now() > deadline) {
          await this.kill();
          throw new Error(`redis-server did not answer on port ${this.port}`, { cause: error });
        }
        await sleep(50);
      }
    }
  }

  /** SIGKILL: no shutdown, no goodbye to clients. Resolves once the process is gone. */
  async kill(): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.exited;
  }

  /** SIGSTOP: the server hangs with its connections open, answering nothing (until `resume`). */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }
}

/** A link (support/tcp-link.ts) to the test Redis, or to the one at `targetUrl`. */
export function openRedisLink(targetUrl = REDIS_TEST_URL): Promise<TcpLink> {
  return TcpLink.open(targetUrl, 6379);
}
