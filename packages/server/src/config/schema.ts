// The configuration file, key by key, with the default beside each. Every key is optional; an
// absent group means all of its defaults. Durations are seconds or strings such as "15m" and are
// whole seconds once parsed. The default issuer, and defaults taken from other keys, are settled
// in load.ts.

import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import type { Infer, Report, Rule } from './rules.js';
import {
  accept,
  arrayOf,
  boolean,
  duration,
  field,
  group,
  integer,
  INVALID,
  nonEmptyString,
  nullable,
  object,
  oneOf,
  refine,
  REQUIRED,
} from './rules.js';

// Generous sanity cap: far beyond any sensible lifetime, yet `now + ttl` stays a valid Date.
const MAX_TTL = 10 * 365 * 86_400;
const ttl = duration(1, MAX_TTL);
// Access tokens cannot be revoked before they expire, so their lifetime bounds the damage.
const accessTtl = duration(1, 3_600, ' (access tokens cannot be revoked, so they must be short)');
// Node timers overflow past 2^31 - 1 ms and then fire immediately, in a tight loop.
const timerInterval = duration(1, 2_147_483, ' (the longest interval a Node timer supports)');

const IDENTIFIER = /^[A-Za-z0-9._-]{1,64}$/;
const identifier = accept(
  (value): value is string => typeof value === 'string' && IDENTIFIER.test(value),
  'must be 1 to 64 characters from A-Z, a-z, 0-9, ".", "_", "-"',
);

/** Shared secrets are compared as bytes, so it is bytes that must reach 256 bits. */
export const MIN_SECRET_BYTES = 32;

export function isLongEnoughSecret(value: string): boolean {
  return Buffer.byteLength(value, 'utf8') >= MIN_SECRET_BYTES;
}

const secret = accept(
  (value): value is string => typeof value === 'string' && isLongEnoughSecret(value),
  `must be a string of at least ${MIN_SECRET_BYTES} bytes`,
);

function urlWithScheme(schemes: readonly string[]): Rule<string> {
  return accept(
    (value): value is string =>
      typeof value === 'string' && URL.canParse(value) && schemes.includes(new URL(value).protocol),
    `must be a URL starting with ${schemes.map((scheme) => `${scheme}//`).join(' or ')}`,
  );
}

const redisUrl = accept(
  (value): value is string =>
    typeof value === 'string' &&
    (/^redis\+(sentinel|cluster):\/\/(:[^@]*@)?[A-Za-z0-9.-]+:\d+(,[A-Za-z0-9.-]+:\d+)*(\/[A-Za-z0-9._-]+)?$/.test(
      value,
    ) ||
      (URL.canParse(value) && ['redis:', 'rediss:'].includes(new URL(value).protocol))),
  'must be a URL starting with redis://, rediss://, redis+sentinel:// or redis+cluster://',
);

// A bare hop count cannot tell a proxy from a client that sends its own X-Forwarded-For.
const trustedProxies = accept(
  (value): value is false | string[] =>
    value === false ||
    (Array.isArray(value) &&
      value.length > 0 &&
      value.every((entry) => {
        if (typeof entry !== 'string') return false;
        const [address = '', bits, ...rest] = entry.split('/');
        const family = isIP(address);
        if (family === 0 || rest.length > 0) return false;
        if (bits === undefined) return true;
        return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
      })),
  'must be false or a non-empty list of proxy addresses or CIDR ranges (e.g. ["10.0.0.0/8"])',
);

// An Origin header is compared verbatim, so only the exact serialized form can ever match.
const origin = accept(
  (value): value is string =>
    typeof value === 'string' && URL.canParse(value) && new URL(value).origin === value,
  'must be an origin: scheme://host[:port], lower-case, with no path or trailing slash',
);

// What Node's listen() takes: a name or an address. Brackets, schemes and ports are refused here
// because the default issuer is built from this text.
const host = accept(
  (value): value is string =>
    typeof value === 'string' && (isIP(value) !== 0 || /^[A-Za-z0-9.-]{1,253}$/.test(value)),
  'must be a hostname or an IP address, without brackets, scheme or port',
);

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Why `value` cannot be the issuer, or null when it can. Tokens and discovery carry the issuer
 * verbatim and relying parties compare it as a string, so only one spelling is accepted.
 */
export function findIssuerProblem(value: string): string | null {
  if (!URL.canParse(value)) return 'must be an absolute http(s) URL';
  const url = new URL(value);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an https URL';
  if (url.username !== '' || url.password !== '') return 'must not contain credentials';
  // `search` and `hash` are empty for a bare "?" or "#", so look at the text itself.
  if (value.includes('?')) return 'must not have a query';
  if (value.includes('#')) return 'must not have a fragment';
  if (value.endsWith('/')) return 'must not end with "/"';
  if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname)) {
    return 'must use https (http is allowed only for localhost, 127.0.0.1 and [::1])';
  }
  const canonical = url.pathname === '/' ? url.origin : url.origin + url.pathname;
  if (canonical !== value) return `must be written in canonical form: "${canonical}"`;
  return null;
}

const issuer: Rule<string> = (value, path, problems) => {
  const text = nonEmptyString(value, path, problems);
  if (text === INVALID) return INVALID;
  const problem = findIssuerProblem(text);
  if (problem === null) return text;
  problems.add(path, problem);
  return INVALID;
};

function uniqueIds<T extends { id: string }>(items: readonly T[], report: Report): void {
  const firstIndex = new Map<string, number>();
  items.forEach((item, index) => {
    const first = firstIndex.get(item.id);
    if (first === undefined) firstIndex.set(item.id, index);
    else report(`repeats the id of entry ${first}`, index, 'id');
  });
}

const STRATEGIES = ['session', 'jwt', 'hybrid'] as const;

const riskAction = oneOf(['off', 'audit', 'revoke', 'reauthenticate']);

export const clientShape = {
  id: field(identifier, REQUIRED),
  strategy: field(oneOf(STRATEGIES), REQUIRED),
  audience: field(nullable(nonEmptyString), null), // null: the issuer
  allowedOrigins: field(arrayOf(origin), []),
  accessTtl: field(nullable(accessTtl), null), // null: tokens.accessTtl
  singleSession: field(boolean, false),
};

const DEFAULT_CLIENTS = [
  { id: 'web', strategy: 'session' },
  { id: 'app', strategy: 'hybrid' },
  { id: 'api', strategy: 'jwt' },
];

const clients = refine(arrayOf(object(clientShape)), (entries, report) => {
  // An empty list leaves nobody able to log in; that is a mistake, not a configuration.
  if (entries.length === 0) report('must list at least one client');
  uniqueIds(entries, report);
});

const resourceServers = refine(
  arrayOf(object({ id: field(identifier, REQUIRED), secret: field(secret, REQUIRED) })),
  uniqueIds,
);

export const fileShape = {
  issuer: field(nullable(issuer), null), // null: http://host:port, allowed only on loopback
  host: field(host, '127.0.0.1'),
  port: field(integer(0, 65_535), 8080), // 0: an ephemeral port, for tests
  dataDir: field(nonEmptyString, './data'),
  databaseUrl: field(nullable(urlWithScheme(['postgres:', 'postgresql:'])), null), // null: SQLite
  // PostgreSQL only: how long a statement may run or wait for a lock before it is cancelled and
  // the request answered 503. 0: no limit.
  databaseStatementTimeout: field(duration(0, 3_600), '5s'),
  // redis+sentinel://h1:26379,h2:26379/master and redis+cluster://h1:6379,h2:6379 name several nodes.
  redisUrl: field(nullable(redisUrl), null), // null: no Redis
  // Addresses or CIDR ranges of the proxies in front of Latchkey. X-Forwarded-For is read only
  // through hops from these, so a direct client cannot spoof it. false: the socket address.
  trustProxy: field(trustedProxies, false),
  logLevel: field(oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), 'info'),
  cookies: group({
    sameSite: field(oneOf(['lax', 'strict']), 'lax'),
  }),
  session: group({
    idleTtl: field(ttl, '1d'),
    absoluteTtl: field(ttl, '7d'),
    maxPerUser: field(nullable(integer(1, Number.MAX_SAFE_INTEGER)), null), // null: unlimited
    onLimit: field(oneOf(['deny', 'evictOldest']), 'evictOldest'),
  }),
  tokens: group(
    {
      algorithm: field(oneOf(['EdDSA', 'ES256', 'RS256', 'HS256']), 'EdDSA'),
      hs256Secret: field(nullable(nonEmptyString), null), // read only when algorithm is HS256
      accessTtl: field(accessTtl, '15m'),
      refreshIdleTtl: field(ttl, '7d'),
      refreshAbsoluteTtl: field(ttl, '30d'),
      refreshReuseGrace: field(duration(0, MAX_TTL), '10s'), // 0: no grace
    },
    ({ algorithm, hs256Secret }, report) => {
      if (algorithm !== 'HS256' || hs256Secret === undefined) return;
      if (hs256Secret === null) report('is required when algorithm is "HS256"', 'hs256Secret');
      else if (!isLongEnoughSecret(hs256Secret)) {
        report(`must be at least ${MIN_SECRET_BYTES} bytes for HS256`, 'hs256Secret');
      }
    },
  ),
  passwords: group(
    {
      // 15 is NIST's floor for single-factor accounts; 8 is its floor alongside a second factor.
      minLength: field(integer(8, 4_096), 15),
      maxLength: field(integer(64, 4_096), 128), // NIST: allow at least 64
      // One core stays free for serving requests while hashes run.
      hashConcurrency: field(integer(1, 1_024), () => Math.max(1, availableParallelism() - 1)),
      // Below the OWASP minimum for argon2id (19 MiB, 2 passes, 1 lane) is refused, not warned.
      argon2: group({
        memoryCost: field(
          integer(19_456, 2 ** 32 - 1, 'must be an integer of at least 19456 KiB (OWASP minimum)'),
          19_456,
        ),
        timeCost: field(
          integer(2, 2 ** 32 - 1, 'must be an integer of at least 2 (OWASP minimum)'),
          2,
        ),
        parallelism: field(integer(1, 2 ** 24 - 1), 1),
      }),
    },
    ({ minLength, maxLength }, report) => {
      if (minLength === undefined || maxLength === undefined || maxLength >= minLength) return;
      report('must not be less than passwords.minLength', 'maxLength');
    },
  ),
  keys: group({
    reloadInterval: field(timerInterval, '5s'),
    // Encrypts the private signing keys in storage (AES-256-GCM); null: stored plain.
    encryptionSecret: field(nullable(secret), null),
  }),
  // Failed logins, sign-ups and password changes, counted in the store so limits hold across
  // instances. Waits grow after the free failures; never a permanent lockout (NIST SP 800-63B-4).
  throttle: group({
    accountFreeFailures: field(integer(1, 100), 5),
    ipFreeFailures: field(integer(1, 100_000), 50),
    firstDelay: field(ttl, '1s'),
    maxDelay: field(ttl, '15m'),
    // NIST: no more than 100 consecutive failures per account before a longer wait.
    accountHardLimit: field(integer(1, 100), 100),
    hardLimitWait: field(ttl, '1h'),
    signupsPerIpPerHour: field(integer(1, 1_000_000), 20),
  }),
  // Generous per-IP limits per instance, so floods degrade gracefully.
  rateLimits: group({
    refreshPerMinute: field(integer(1, 10_000_000), 600),
    defaultPerMinute: field(integer(1, 10_000_000), 6_000),
  }),
  audit: group({
    retention: field(ttl, '90d'),
  }),
  // Risk checks at login, refresh and cookie use (core/risk). Each signal has an action: "off",
  // "audit" (record suspicious_activity), "revoke" (also end the session) or "reauthenticate"
  // (also end it and answer reauthentication_required). At login, "reauthenticate" is met by the
  // password just given, so it records only, and "revoke" refuses the login.
  risk: group({
    enabled: field(boolean, true),
    // A MaxMind DB file (GeoLite2/GeoIP2 City or Country). null: no geo data, no impossible travel.
    geoDatabase: field(nullable(nonEmptyString), null),
    // Faster than an airliner between two uses is impossible travel.
    maxTravelSpeedKmh: field(integer(1, 1_000_000), 1000),
    // A device not used to log in for this long is forgotten: its next login is a new device.
    forgetDevicesAfter: field(ttl, '180d'),
    actions: group({
      userAgentChanged: field(riskAction, 'reauthenticate'),
      networkChanged: field(riskAction, 'audit'),
      impossibleTravel: field(riskAction, 'reauthenticate'),
      newDevice: field(riskAction, 'audit'),
      // API.md: reuse always ends the family; "off" leaves out only the suspicious_activity event.
      refreshTokenReused: field(oneOf(['revoke', 'off']), 'revoke'),
    }),
  }),
  clients: field(clients, DEFAULT_CLIENTS), // given: replaces the defaults entirely
  resourceServers: field(resourceServers, []),
};

export type ConfigFile = Infer<typeof fileShape>;
