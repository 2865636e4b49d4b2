// createVerifier's options: each with its default beside it, validated once, then frozen. A bad
// option throws VerifierConfigError naming the option and the problem.
import { VerifierConfigError } from './errors.js';

export interface VerifierOptions {
  /** The issuer, exactly as tokens carry it in `iss` (e.g. `https://auth.example.com`). */
  readonly issuer: string;
  /** The `aud` this resource server accepts; one of several when an array. */
  readonly audience: string | readonly string[];
  /** Default: `{issuer}/.well-known/jwks.json`. */
  readonly jwksUrl?: string;
  /** Follow the revocation feed. Without it, a token is valid until it expires. */
  readonly revocations?: RevocationOptions;
  /**
   * While the feed is silent for longer than `maxStaleness` (or before it first caught up): false
   * (the default) refuses every token with `revocations_unavailable`; true keeps accepting tokens,
   * checked against the revocations known so far.
   */
  readonly failOpen?: boolean;
  /** ms. How stale the revocation state may get before failing closed. Default 30 000. */
  readonly maxStaleness?: number;
  /** ms of clock difference tolerated on `exp`, `nbf` and `iat`. Default 5 000, at most 60 000. */
  readonly clockSkew?: number;
  /** Verified tokens remembered (by exact string, never past `exp`). Default 10 000; 0 disables. */
  readonly cacheSize?: number;
  /** ms. An unknown `kid` refetches the JWKS at most once per window. Default 30 000, min 1 000. */
  readonly jwksCooldown?: number;
  /** ms. The JWKS is refetched in the background this often. Default 300 000. */
  readonly jwksRefreshInterval?: number;
  /** ms. Timeout of each JWKS and feed request (and of opening the stream). Default 5 000. */
  readonly requestTimeout?: number;
  /** ms. How long `ready()` waits before it rejects. Default 10 000. */
  readonly readyTimeout?: number;
  /**
   * Allow plain-http URLs for hosts other than loopback. Keys and the feed credential would then
   * travel unprotected: only for private networks you trust. Default false.
   */
  readonly allowInsecureHttp?: boolean;
  /** The clock (ms since the epoch) for expiry, staleness and cooldowns. Default `Date.now`. */
  readonly now?: () => number;
  /** Called with feed and JWKS trouble (never with a token or a secret). Default: ignored. */
  readonly onWarning?: (message: string) => void;
}

export interface RevocationOptions {
  /** Default: `{issuer}/v1/revocations` (the stream is `{url}/stream`). */
  readonly url?: string;
  /** A resource-server credential from the issuer's `resourceServers` config. */
  readonly credential: { readonly id: string; readonly secret: string };
  /** ms between polls when the stream is unavailable. Default 5 000; below `maxStaleness`. */
  readonly pollInterval?: number;
  /** ms without a byte (event or heartbeat) before the stream is reconnected. Default 45 000. */
  readonly heartbeatTimeout?: number;
  /** ms before reconnecting the stream, doubling per failure up to `max`. Default 500 to 15 000. */
  readonly reconnectDelay?: { readonly initial: number; readonly max: number };
  /** Consecutive stream failures before falling back to polling. Default 3. */
  readonly streamFailuresBeforePolling?: number;
  /** ms of polling before the stream is tried again. Default 60 000. */
  readonly streamRetryInterval?: number;
}

export interface ResolvedOptions {
  readonly issuer: string;
  readonly audience: readonly string[];
  readonly jwksUrl: string;
  readonly revocations: ResolvedRevocationOptions | null;
  readonly failOpen: boolean;
  readonly maxStaleness: number;
  readonly clockSkew: number;
  readonly cacheSize: number;
  readonly jwksCooldown: number;
  readonly jwksRefreshInterval: number;
  readonly requestTimeout: number;
  readonly readyTimeout: number;
  readonly now: () => number;
  readonly warn: (message: string) => void;
}

export interface ResolvedRevocationOptions {
  readonly url: string;
  readonly credential: { readonly id: string; readonly secret: string };
  readonly pollInterval: number;
  readonly heartbeatTimeout: number;
  readonly reconnectDelay: { readonly initial: number; readonly max: number };
  readonly streamFailuresBeforePolling: number;
  readonly streamRetryInterval: number;
}

const MAX_CLOCK_SKEW = 60_000;
/** Node timers overflow past 2^31 - 1 ms and then fire at once, in a tight loop. */
const MAX_TIMER = 2_147_483_647;

const OPTION_KEYS = new Set([
  'issuer',
  'audience',
  'jwksUrl',
  'revocations',
  'failOpen',
  'maxStaleness',
  'clockSkew',
  'cacheSize',
  'jwksCooldown',
  'jwksRefreshInterval',
  'requestTimeout',
  'readyTimeout',
  'allowInsecureHttp',
  'now',
  'onWarning',
]);
const REVOCATION_KEYS = new Set([
  'url',
  'credential',
  'pollInterval',
  'heartbeatTimeout',
  'reconnectDelay',
  'streamFailuresBeforePolling',
  'streamRetryInterval',
]);

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

function fail(option: string, problem: string): never {
  throw new VerifierConfigError(option, problem);
}

function rejectUnknownKeys(value: object, known: ReadonlySet<string>, prefix: string): void {
  for (const key of Object.keys(value)) {
    if (!known.has(key)) fail(`${prefix}${key}`, 'is not an option');
  }
}

function url(option: string, value: unknown, allowInsecureHttp: boolean): string {
  if (typeof value !== 'string' || !URL.canParse(value)) fail(option, 'must be an absolute URL');
  const parsed = new URL(value);
  if (parsed.username !== '' || parsed.password !== '') {
    fail(option, 'must not carry credentials');
  }
  if (parsed.protocol === 'https:') return value;
  if (parsed.protocol !== 'http:') fail(option, 'must be an https:// URL');
  if (!allowInsecureHttp && !LOOPBACK_HOSTS.has(parsed.hostname)) {
    fail(option, 'must be https:// unless the host is loopback (or allowInsecureHttp is set)');
  }
  return value;
}

function duration(
  option: string,
  value: unknown,
  fallback: number,
  { min = 1, max = MAX_TIMER }: { min?: number; max?: number } = {},
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    fail(option, `must be a number of milliseconds from ${min} to ${max}`);
  }
  return value;
}

function integer(option: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    fail(option, `must be an integer of at least ${min}`);
  }
  return value;
}

function nonEmptyString(option: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') fail(option, 'must be a non-empty string');
  return value;
}

function withoutTrailingSlash(value: string): string {
  return value.endsWith('/') ? value.slice(0, -1) : value;
}

export function resolveOptions(options: VerifierOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) fail('options', 'must be an object');
  rejectUnknownKeys(options, OPTION_KEYS, '');
  const allowInsecureHttp = options.allowInsecureHttp ?? false;
  if (typeof allowInsecureHttp !== 'boolean') fail('allowInsecureHttp', 'must be a boolean');
  const issuer = url('issuer', options.issuer, allowInsecureHttp);

  const audience = typeof options.audience === 'string' ? [options.audience] : options.audience;
  if (!Array.isArray(audience) || audience.length === 0) {
    fail('audience', 'must be a non-empty string or a non-empty array of them');
  }
  audience.forEach((value: unknown, i) => nonEmptyString(`audience[${i}]`, value));

  const jwksUrl = url(
    'jwksUrl',
    options.jwksUrl ?? `${withoutTrailingSlash(issuer)}/.well-known/jwks.json`,
    allowInsecureHttp,
  );
  const failOpen = options.failOpen ?? false;
  if (typeof failOpen !== 'boolean') fail('failOpen', 'must be a boolean');
  const maxStaleness = duration('maxStaleness', options.maxStaleness, 30_000);
  const clockSkew = duration('clockSkew', options.clockSkew, 5_000, {
    min: 0,
    max: MAX_CLOCK_SKEW,
  });
  const now = options.now ?? Date.now;
  if (typeof now !== 'function') fail('now', 'must be a function returning ms since the epoch');
  const onWarning = options.onWarning;
  if (onWarning !== undefined && typeof onWarning !== 'function') {
    fail('onWarning', 'must be a function');
  }

  return Object.freeze({
    issuer,
    audience: Object.freeze([...(audience as string[])]),
    jwksUrl,
    revocations: resolveRevocations(options.revocations, issuer, {
      allowInsecureHttp,
      maxStaleness,
      failOpen,
    }),
    failOpen,
    maxStaleness,
    clockSkew,
    cacheSize: integer('cacheSize', options.cacheSize, 10_000, 0),
    // Below a second, forged kids could make the issuer's JWKS a target: refused.
    jwksCooldown: duration('jwksCooldown', options.jwksCooldown, 30_000, { min: 1_000 }),
    jwksRefreshInterval: duration('jwksRefreshInterval', options.jwksRefreshInterval, 300_000),
    requestTimeout: duration('requestTimeout', options.requestTimeout, 5_000),
    readyTimeout: duration('readyTimeout', options.readyTimeout, 10_000),
    now,
    warn: onWarning ?? (() => undefined),
  });
}

function resolveRevocations(
  value: RevocationOptions | undefined,
  issuer: string,
  context: { allowInsecureHttp: boolean; maxStaleness: number; failOpen: boolean },
): ResolvedRevocationOptions | null {
  if (value === undefined) return null;
  if (typeof value !== 'object' || value === null) fail('revocations', 'must be an object');
  rejectUnknownKeys(value, REVOCATION_KEYS, 'revocations.');
  const feedUrl = url(
    'revocations.url',
    value.url ?? `${withoutTrailingSlash(issuer)}/v1/revocations`,
    context.allowInsecureHttp,
  );
  const credential = value.credential as unknown;
  if (typeof credential !== 'object' || credential === null) {
    fail('revocations.credential', 'must be { id, secret }');
  }
  const { id, secret } = credential as Record<string, unknown>;
  const pollInterval = duration('revocations.pollInterval', value.pollInterval, 5_000);
  if (!context.failOpen && pollInterval >= context.maxStaleness) {
    fail('revocations.pollInterval', 'must be shorter than maxStaleness, or polling fails closed');
  }
  const delay = value.reconnectDelay ?? { initial: 500, max: 15_000 };
  if (typeof delay !== 'object' || delay === null) {
    fail('revocations.reconnectDelay', 'must be { initial, max }');
  }
  const initial = duration('revocations.reconnectDelay.initial', delay.initial, 500);
  const max = duration('revocations.reconnectDelay.max', delay.max, 15_000, { min: initial });
  return Object.freeze({
    url: withoutTrailingSlash(feedUrl),
    credential: Object.freeze({
      id: nonEmptyString('revocations.credential.id', id),
      secret: nonEmptyString('revocations.credential.secret', secret),
    }),
    pollInterval,
    heartbeatTimeout: duration('revocations.heartbeatTimeout', value.heartbeatTimeout, 45_000),
    reconnectDelay: Object.freeze({ initial, max }),
    streamFailuresBeforePolling: integer(
      'revocations.streamFailuresBeforePolling',
      value.streamFailuresBeforePolling,
      3,
      1,
    ),
    streamRetryInterval: duration(
      'revocations.streamRetryInterval',
      value.streamRetryInterval,
      60_000,
    ),
  });
}
