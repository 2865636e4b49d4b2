// Test fixtures: an in-process Latchkey with a manual clock, plus helpers to sign up, log in and
// call it through fastify.inject. Storage is in-memory SQLite, or with LATCHKEY_TEST_STORAGE=postgres
// a fresh random schema on the test PostgreSQL (see ./postgres.ts), dropped when the server closes.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { RedisConnection } from '../../src/adapters/redis/connect.js';
import { validateConfig } from '../../src/config/load.js';
import type { LatchkeyConfig } from '../../src/config/types.js';
import { ManualClock } from '../../src/core/clock.js';
import { buildHttpApp } from '../../src/http/app.js';
import { createServices, type LatchkeyServices } from '../../src/latchkey.js';
import { openPostgresStorage } from '../../src/adapters/sql/postgres.js';
import { openSqliteStorage } from '../../src/adapters/sql/sqlite.js';
import type { Storage } from '../../src/ports/storage.js';
import {
  TEST_DATABASE_URL,
  createTestSchema,
  dropTestSchema,
  requirePostgres,
} from './postgres.js';

export const PASSWORD = 'correct horse battery staple 42';

export interface TestServer {
  readonly app: FastifyInstance;
  readonly services: LatchkeyServices;
  readonly clock: ManualClock;
  readonly config: LatchkeyConfig;
  close(): Promise<void>;
}

/**
 * With LATCHKEY_TEST_REDIS_URL set, every test server also uses Redis (session cache, revocation
 * fan-out) under a random key prefix, removed when the server closes.
 */
export const TEST_REDIS_URL = process.env['LATCHKEY_TEST_REDIS_URL'] || null;

export async function startTestServer(file: Record<string, unknown> = {}): Promise<TestServer> {
  const config = validateConfig(
    {
      logLevel: 'silent',
      // Test files sign up many users from one address; throttle tests set their own limits.
      throttle: { signupsPerIpPerHour: 1_000_000 },
      ...(TEST_REDIS_URL ? { redisUrl: TEST_REDIS_URL } : {}),
      ...file,
    },
    {},
  );
  const redisPrefix = `lk_test_${randomBytes(6).toString('hex')}:`;
  // Real time as the starting point so jose's own checks (and remote verifiers) agree with it.
  const clock = new ManualClock(Math.floor(Date.now() / 1000) * 1000);
  const { storage, release } = await openTestStorage();
  let services: LatchkeyServices;
  let app: FastifyInstance;
  try {
    services = await createServices(config, { clock, storage, redisPrefix });
    app = buildHttpApp(services);
    await app.ready();
  } catch (error) {
    await release();
    throw error;
  }
  return {
    app,
    services,
    clock,
    config,
    async close() {
      await app.close();
      if (services.redis) await deleteKeys(services.redis.connection, redisPrefix);
      await services.close();
      await release();
    },
  };
}

async function deleteKeys(redis: RedisConnection, prefix: string): Promise<void> {
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } catch {
    // Redis may be down on purpose (fault tests); the keys expire on their own.
  }
}

/** The engine the whole suite runs on: `sqlite` (default) or `postgres`. */
export const TEST_STORAGE = process.env['LATCHKEY_TEST_STORAGE'] ?? 'sqlite';
if (TEST_STORAGE !== 'sqlite' && TEST_STORAGE !== 'postgres') {
  throw new Error(`LATCHKEY_TEST_STORAGE must be sqlite or postgres, not "${TEST_STORAGE}"`);
}

/** A fresh, migrated, empty store, and how to close it and throw it away. */
async function openTestStorage(): Promise<{ storage: Storage; release: () => Promise<void> }> {
  if (TEST_STORAGE === 'sqlite') {
    const storage = await openSqliteStorage({ dataDir: ':memory:' });
    return { storage, release: () => storage.close() };
  }
  // Asked for by name, so an unreachable PostgreSQL fails the run rather than skipping it.
  await requirePostgres();
  const schema = await createTestSchema();
  let storage: Storage;
  try {
    // A few connections each: test files run in parallel within one server's max_connections.
    storage = await openPostgresStorage({ url: TEST_DATABASE_URL, schema, poolSize: 4 });
  } catch (error) {
    await dropTestSchema(schema);
    throw error;
  }
  return {
    storage,
    async release() {
      try {
        // Tests may have closed it already to simulate an outage; closing twice is harmless.
        await storage.close();
      } finally {
        await dropTestSchema(schema);
      }
    },
  };
}

let emailCounter = 0;
export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}-${process.pid}-${++emailCounter}@example.test`;
}

export function json(response: LightMyRequestResponse): Record<string, unknown> {
  return JSON.parse(response.body) as Record<string, unknown>;
}

export async function signUp(
  server: TestServer,
  email = uniqueEmail(),
  password = PASSWORD,
): Promise<{ id: string; email: string }> {
  const response = await server.app.inject({
    method: 'POST',
    url: '/v1/accounts',
    payload: { email, password },
  });
  if (response.statusCode !== 201) throw new Error(`sign-up failed: ${response.body}`);
  return json(response)['user'] as { id: string; email: string };
}

export interface TokenPair {
  readonly access_token: string;
  readonly refresh_token?: string;
  readonly session_id?: string;
  readonly expires_in: number;
  readonly token_type: string;
}

export async function passwordGrant(
  server: TestServer,
  email: string,
  clientId = 'app',
  password = PASSWORD,
): Promise<TokenPair> {
  const response = await server.app.inject({
    method: 'POST',
    url: '/v1/token',
    payload: { grant_type: 'password', username: email, password, client_id: clientId },
  });
  if (response.statusCode !== 200) throw new Error(`login failed: ${response.body}`);
  return json(response) as unknown as TokenPair;
}

export function refresh(server: TestServer, refreshToken: string, clientId = 'app') {
  return server.app.inject({
    method: 'POST',
    url: '/v1/token',
    payload: { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId },
  });
}

export function getMe(server: TestServer, accessToken: string) {
  return server.app.inject({
    method: 'GET',
    url: '/v1/me',
    headers: { authorization: `Bearer ${accessToken}` },
  });
}

/** Makes a user an admin directly in storage (the CLI does this in real life). */
export async function signUpAdmin(
  server: TestServer,
): Promise<{ id: string; email: string; token: string }> {
  const email = uniqueEmail('admin');
  const result = await server.services.accounts.signUp(
    email,
    PASSWORD,
    { ip: null, userAgent: null },
    ['admin'],
  );
  if (!result.ok) throw new Error('admin sign-up failed');
  const pair = await passwordGrant(server, email, 'api');
  return { id: result.user.id, email, token: pair.access_token };
}
