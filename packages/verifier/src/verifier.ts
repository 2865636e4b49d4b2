// The verifier: access JWTs checked locally against the issuer's JWKS (signature first, then
// claims), then against the revocation state the feed keeps current. A known key and an open feed
// mean no network call at all on the verify path.
import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import {
  REQUIRED_CLAIMS,
  isStrictCompactJWS,
  parseClaims,
  type AccessTokenClaims,
} from './claims.js';
import { VerifierError, type VerifierErrorCode } from './errors.js';
import { basicAuthorization, sleep } from './http.js';
import { ASYMMETRIC_ALGORITHMS, KeySet } from './jwks.js';
import { resolveOptions, type ResolvedOptions, type VerifierOptions } from './options.js';
import { RevocationFeed, type FeedMode } from './revocation-feed.js';
import { RevocationSet } from './revocation-set.js';
import { VerifiedTokenCache } from './token-cache.js';

export type VerifyResult =
  | { readonly ok: true; readonly claims: AccessTokenClaims }
  | { readonly ok: false; readonly error: VerifierError };

export interface VerifierStatus {
  /** Usable keys from the JWKS. */
  readonly keys: number;
  /** How many times the JWKS was requested. */
  readonly jwksFetches: number;
  /** `null` when no feed is configured. */
  readonly feed: {
    readonly mode: FeedMode;
    /** ms since the state was last known complete; `null` before the first catch-up. */
    readonly staleness: number | null;
    /** Whether verification currently fails closed for staleness. */
    readonly failingClosed: boolean;
    readonly streamsOpened: number;
    readonly eventsReceived: number;
  } | null;
  /** Revoked sessions, tokens and user epochs held in memory. */
  readonly revocations: number;
  readonly cachedTokens: number;
}

export interface Verifier {
  /**
   * The claims of a valid, unrevoked access token, or the reason it is refused. Never throws for
   * a bad token; never calls the network unless the token names a key not yet known (see
   * `jwksCooldown`).
   */
  verify(token: string): Promise<VerifyResult>;
  /**
   * Resolves once the JWKS is loaded and the feed has caught up (failing closed before that is
   * what `verify` does). Rejects with a `VerifierError` after `readyTimeout` or on `close()`;
   * loading goes on in the background either way.
   */
  ready(): Promise<void>;
  status(): VerifierStatus;
  /** Stops the feed and every timer. Verification keeps the state it has, which goes stale. */
  close(): Promise<void>;
}

const PRUNE_INTERVAL_MS = 60_000;
const KEY_RETRY_INITIAL_MS = 1_000;
const KEY_RETRY_MAX_MS = 30_000;

function refuse(code: VerifierErrorCode, message: string): VerifyResult {
  return { ok: false, error: new VerifierError(code, message) };
}

export function createVerifier(options: VerifierOptions): Verifier {
  return new LatchkeyVerifier(resolveOptions(options));
}

class LatchkeyVerifier implements Verifier {
  private readonly lifetime = new AbortController();
  private readonly keys: KeySet;
  private readonly cache: VerifiedTokenCache;
  private readonly revocations: RevocationSet;
  private readonly feed: RevocationFeed | null;
  private readonly keysLoop: Promise<void>;
  private readonly pruneTimer: ReturnType<typeof setInterval>;
  private readonly skewSeconds: number;

  constructor(private readonly options: ResolvedOptions) {
    const { now, warn } = options;
    const signal = this.lifetime.signal;
    this.skewSeconds = options.clockSkew / 1000;
    this.cache = new VerifiedTokenCache(options.cacheSize);
    this.revocations = new RevocationSet(options.clockSkew);
    this.keys = new KeySet({
      url: options.jwksUrl,
      now,
      cooldownMs: options.jwksCooldown,
      timeoutMs: options.requestTimeout,
      signal,
      warn,
      onKeysRemoved: (kids) => this.cache.dropKeys(kids),
    });
    this.keysLoop = this.refreshKeys();

    const feed = options.revocations;
    this.feed = feed
      ? new RevocationFeed({
          url: feed.url,
          authorization: basicAuthorization(feed.credential.id, feed.credential.secret),
          now,
          timeoutMs: options.requestTimeout,
          heartbeatTimeoutMs: feed.heartbeatTimeout,
          pollIntervalMs: feed.pollInterval,
          reconnectDelayMs: feed.reconnectDelay,
          streamFailuresBeforePolling: feed.streamFailuresBeforePolling,
          streamRetryIntervalMs: feed.streamRetryInterval,
          signal,
          apply: (revocation) => {
            this.revocations.apply(revocation, now());
          },
          warn,
        })
      : null;
    this.feed?.start();
    this.pruneTimer = setInterval(() => this.revocations.prune(now()), PRUNE_INTERVAL_MS);
  }

  async verify(token: string): Promise<VerifyResult> {
    if (typeof token !== 'string') return refuse('token_invalid', 'the token is not a string');
    let claims = this.cache.get(token, this.options.now());
    if (claims === undefined) {
      const result = await this.verifySignatureAndClaims(token);
      if (!result.ok) return result;
      claims = result.claims;
    }
    // After the cache, on every call: a revocation applies to cached tokens at once.
    if (this.revocations.isRevoked(claims)) return refuse('token_revoked', 'the token is revoked');
    if (this.feed && !this.options.failOpen) {
      const staleness = this.feed.staleness(this.options.now());
      if (staleness > this.options.maxStaleness) {
        return refuse(
          'revocations_unavailable',
          staleness === Infinity
            ? 'the revocation feed has not caught up yet'
            : `the revocation feed has been silent for ${Math.round(staleness)} ms`,
        );
      }
    }
    return { ok: true, claims };
  }

  private async verifySignatureAndClaims(token: string): Promise<VerifyResult> {
    if (!isStrictCompactJWS(token)) return refuse('token_invalid', 'not a strict compact JWS');
    let header;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      return refuse('token_invalid', 'unreadable header');
    }
    const { alg, kid } = header;
    // Checked before any key lookup, so `alg: none` or HS256 never costs a JWKS refetch.
    if (typeof alg !== 'string' || !ASYMMETRIC_ALGORITHMS.has(alg)) {
      return refuse('token_invalid', 'algorithm not allowed');
    }
    if (typeof kid !== 'string' || kid === '') return refuse('token_invalid', 'no key ID');
    const key = await this.keys.lookup(kid);
    if (key === 'unavailable') return refuse('keys_unavailable', 'the JWKS could not be fetched');
    if (key === 'unknown') return refuse('token_invalid', 'unknown key ID');
    // Pinned: the key's own algorithm, whatever the header says (RFC 8725 section 3.1).
    if (key.alg !== alg) return refuse('token_invalid', 'algorithm does not match the key');

    const now = this.options.now();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key.key, {
        algorithms: [key.alg],
        issuer: this.options.issuer,
        audience: [...this.options.audience],
        typ: 'at+jwt',
        requiredClaims: REQUIRED_CLAIMS,
        clockTolerance: this.skewSeconds,
        currentDate: new Date(now),
      }));
    } catch (cause) {
      if (cause instanceof errors.JWTExpired && cause.claim === 'exp') {
        return refuse('token_expired', 'the token has expired');
      }
      // jose's errors carry the payload: not attached, so it never reaches a log by accident.
      return refuse('token_invalid', describeJoseError(cause));
    }
    const claims = parseClaims(payload);
    if (claims === null) return refuse('token_invalid', 'a claim has the wrong type');
    if (claims.iat * 1000 > now + this.options.clockSkew) {
      return refuse('token_invalid', 'issued in the future');
    }
    this.cache.set(token, claims, key.kid, now);
    return { ok: true, claims };
  }

  async ready(): Promise<void> {
    const loaded = Promise.all([this.keys.firstLoad, this.feed?.caughtUp]);
    const signal = this.lifetime.signal;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort: (() => void) | undefined;
    const failure = new Promise<never>((_, reject) => {
      const code = () => (this.keys.loaded ? 'revocations_unavailable' : 'keys_unavailable');
      onAbort = () => reject(new VerifierError(code(), 'the verifier was closed'));
      if (signal.aborted) onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      timer = setTimeout(() => {
        const what = this.keys.loaded
          ? 'the revocation feed did not catch up'
          : 'the JWKS could not be loaded';
        reject(new VerifierError(code(), `${what} within ${this.options.readyTimeout} ms`));
      }, this.options.readyTimeout);
    });
    try {
      await Promise.race([loaded, failure]);
    } finally {
      clearTimeout(timer);
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  }

  status(): VerifierStatus {
    const now = this.options.now();
    let feed: VerifierStatus['feed'] = null;
    if (this.feed) {
      const staleness = this.feed.staleness(now);
      feed = {
        mode: this.feed.mode,
        staleness: staleness === Infinity ? null : staleness,
        failingClosed: !this.options.failOpen && staleness > this.options.maxStaleness,
        streamsOpened: this.feed.stats.streamsOpened,
        eventsReceived: this.feed.stats.eventsReceived,
      };
    }
    return {
      keys: this.keys.size,
      jwksFetches: this.keys.fetchCount,
      feed,
      revocations: this.revocations.size,
      cachedTokens: this.cache.size,
    };
  }

  async close(): Promise<void> {
    this.lifetime.abort();
    clearInterval(this.pruneTimer);
    await Promise.all([this.keysLoop, this.feed?.stopped()]);
  }

  /** Loads the JWKS (retrying with backoff until it works), then refreshes it periodically. */
  private async refreshKeys(): Promise<void> {
    const signal = this.lifetime.signal;
    let delay = KEY_RETRY_INITIAL_MS;
    while (!signal.aborted) {
      const ok = await this.keys.refresh();
      if (ok) {
        delay = KEY_RETRY_INITIAL_MS;
        await sleep(this.options.jwksRefreshInterval, signal);
      } else {
        await sleep(this.keys.loaded ? this.options.jwksRefreshInterval : delay, signal);
        delay = Math.min(KEY_RETRY_MAX_MS, delay * 2);
      }
    }
  }
}

function describeJoseError(error: unknown): string {
  if (error instanceof errors.JOSEError) return `${error.code}: ${error.message}`;
  return 'verification failed';
}
