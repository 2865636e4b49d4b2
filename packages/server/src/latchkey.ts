// The composition root: builds every service from the frozen config and hands each one exactly
// the dependencies it needs. Tests call it with an in-memory database and a manual clock.
import type { ClientConfig, LatchkeyConfig } from './config/types.js';
import { AccessTokens } from './core/access-tokens.js';
import { AccountService } from './core/accounts.js';
import { AuditLog } from './core/audit.js';
import { systemClock, type Clock } from './core/clock.js';
import { KeyRing } from './core/keys.js';
import { createArgon2Hasher, type PasswordHasher } from './core/passwords/hasher.js';
import { createPasswordRules } from './core/passwords/rules.js';
import { cryptoRandom, type RandomSource } from './core/random.js';
import { RevocationHub } from './core/revocation-hub.js';
import { RevocationState } from './core/revocation-state.js';
import { Revoker } from './core/revoker.js';
import { RiskEngine } from './core/risk/risk-engine.js';
import { SessionService } from './core/sessions.js';
import { Throttle } from './core/throttle.js';
import { TokenGrants } from './core/token-grants.js';
import { UserCache } from './core/user-cache.js';
import { MemorySessionCache } from './adapters/memory/session-cache.js';
import { openStorage } from './adapters/open-storage.js';
import { MaxMindGeoResolver } from './adapters/geo/maxmind.js';
import { connectRedis, waitForRedis, type RedisConnection } from './adapters/redis/connect.js';
import { RedisFloodCounts } from './adapters/redis/flood-counts.js';
import { RedisRevocationFanout } from './adapters/redis/revocation-fanout.js';
import { RedisSessionCache } from './adapters/redis/session-cache.js';
import { RedisThrottleStore } from './adapters/redis/throttle-store.js';
import type { GeoResolver } from './ports/geo.js';
import type { SharedFloodCounts } from './ports/flood-counts.js';
import type { ThrottleStore } from './ports/throttle.js';
import type { SessionCache } from './ports/session-cache.js';
import type { Storage } from './ports/storage.js';

export interface LatchkeyServices {
  readonly config: LatchkeyConfig;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly storage: Storage;
  readonly clients: ReadonlyMap<string, ClientConfig>;
  readonly hasher: PasswordHasher;
  readonly keys: KeyRing;
  readonly revocations: RevocationState;
  readonly revocationHub: RevocationHub;
  readonly revoker: Revoker;
  readonly audit: AuditLog;
  readonly accounts: AccountService;
  readonly sessions: SessionService;
  readonly accessTokens: AccessTokens;
  readonly grants: TokenGrants;
  readonly risk: RiskEngine;
  /** Present when `redisUrl` is configured. */
  readonly redis: RedisServices | null;
  /** Releases everything the services hold (pools, workers, connections). */
  close(): Promise<void>;
}

export interface RedisServices {
  readonly connection: RedisConnection;
  readonly sessionCache: SessionCache;
  readonly throttles: ThrottleStore;
  readonly floodCounts: SharedFloodCounts;
  readonly fanout: RedisRevocationFanout;
}

export interface CreateServicesOptions {
  readonly clock?: Clock;
  readonly random?: RandomSource;
  /** Defaults to the store the config names (SQLite in `dataDir`). */
  readonly storage?: Storage;
  readonly hasher?: PasswordHasher;
  /** Prefix of every Redis key and channel (tests isolate themselves with a random one). */
  readonly redisPrefix?: string;
  /** Defaults to the MaxMind database named by `risk.geoDatabase`, or none. */
  readonly geo?: GeoResolver | null;
}

/** How long after revocation an event still matters: the longest access-token life, plus leeway. */
export function maxAccessTtlMs(config: LatchkeyConfig): number {
  const longest = Math.max(config.tokens.accessTtl, ...config.clients.map((c) => c.accessTtl));
  return (longest + 60) * 1000;
}

export async function createServices(
  config: LatchkeyConfig,
  options: CreateServicesOptions = {},
): Promise<LatchkeyServices> {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? cryptoRandom;
  const storage = options.storage ?? (await openStorage(config));
  const hasher =
    options.hasher ??
    createArgon2Hasher({
      params: config.passwords.argon2,
      concurrency: config.passwords.hashConcurrency,
    });
  const clients = new Map(config.clients.map((c) => [c.id, c]));
  const ttl = maxAccessTtlMs(config);

  const keys = new KeyRing(storage, {
    algorithm: config.tokens.algorithm,
    hs256Secret: config.tokens.hs256Secret,
    encryptionSecret: config.keys.encryptionSecret,
    maxAccessTtlMs: ttl,
    clock,
  });
  await keys.initialise();

  const revocations = new RevocationState();
  const revocationHub = new RevocationHub(revocations, clock);
  revocationHub.seed(await storage.listLiveRevocations(clock.now()));

  const redis =
    config.redisUrl === null
      ? null
      : startRedis(config.redisUrl, options.redisPrefix ?? 'lk:', revocationHub);
  if (redis) await waitForRedis(redis.connection, 2000);

  // The embedded deployment is one process: it caches cookie sessions itself. Several instances
  // on PostgreSQL share Redis's cache, or read the database on every cookie request.
  const sessionCache =
    redis?.sessionCache ??
    (config.databaseUrl === null ? new MemorySessionCache(clock) : undefined);

  const audit = new AuditLog(storage, clock);
  const geo = options.geo !== undefined ? options.geo : await openGeoResolver(config);
  const revoker = new Revoker({
    store: storage,
    hub: revocationHub,
    audit,
    clock,
    maxAccessTtlMs: ttl,
    sessionCache,
    fanout: redis?.fanout.publish,
  });
  const accounts = new AccountService({
    store: storage,
    hasher,
    rules: createPasswordRules(config.passwords),
    audit,
    clock,
    random,
    users: new UserCache(clock),
    throttle: new Throttle(redis?.throttles ?? storage, clock, config.throttle),
  });
  revocationHub.subscribe((event) => {
    if (event.kind === 'user') accounts.forgetUser(event.subjectId);
  });
  const risk = new RiskEngine({ store: storage, audit, revoker, clock, geo, config: config.risk });
  const sessions = new SessionService({
    store: storage,
    revoker,
    revocations,
    cache: sessionCache,
    risk,
    clock,
    random,
    config,
  });
  const accessTokens = new AccessTokens({
    keys,
    issuer: config.issuer,
    clients: config.clients,
    clock,
    random,
    revocations,
  });
  const grants = new TokenGrants({
    accounts,
    sessions,
    accessTokens,
    store: storage,
    revoker,
    audit,
    risk,
    clock,
    random,
    clients,
    refreshReuseGrace: config.tokens.refreshReuseGrace,
  });

  return {
    config,
    clock,
    random,
    storage,
    clients,
    hasher,
    keys,
    revocations,
    revocationHub,
    revoker,
    audit,
    accounts,
    sessions,
    accessTokens,
    grants,
    risk,
    redis,
    async close() {
      geo?.close();
      redis?.fanout.close();
      await redis?.sessionCache.close();
      await hasher.close();
      await storage.close();
    },
  };
}

/** The operator's geo database, if configured; a file that cannot be read stops start-up. */
async function openGeoResolver(config: LatchkeyConfig): Promise<GeoResolver | null> {
  const path = config.risk.geoDatabase;
  if (path === null || !config.risk.enabled) return null;
  try {
    return await MaxMindGeoResolver.open(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`risk.geoDatabase: cannot read a MaxMind database at "${path}" (${reason})`, {
      cause: error,
    });
  }
}

function startRedis(url: string, prefix: string, hub: RevocationHub): RedisServices {
  const connection = connectRedis(url);
  // Errors surface on each command as DependencyUnavailableError; the event only needs a
  // listener so a dropped connection does not crash the process.
  connection.on('error', () => undefined);
  return {
    connection,
    sessionCache: new RedisSessionCache(connection, `${prefix}s:`),
    throttles: new RedisThrottleStore(connection, `${prefix}t:`),
    floodCounts: new RedisFloodCounts(connection, `${prefix}f:`),
    fanout: new RedisRevocationFanout(connection, `${prefix}revocations`, (event) =>
      hub.publish(event),
    ),
  };
}
