// The issuer's public keys, fetched from its JWKS and kept in memory. Each key is pinned to the
// one algorithm the JWKS names for it (RFC 8725 section 3.1). A token naming a key we do not know
// may trigger a refetch, at most one per cooldown window however many such tokens arrive, so
// forged `kid`s cannot turn into a fetch storm against the issuer.
import { importJWK, type CryptoKey, type JWK } from 'jose';
import { describe, getJson } from './http.js';

/** Signature algorithms a public JWKS can carry. `none` and the HMAC family never qualify. */
export const ASYMMETRIC_ALGORITHMS: ReadonlySet<string> = new Set([
  'EdDSA',
  'Ed25519',
  'ES256',
  'ES384',
  'ES512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
]);

/** RFC 7517 private and symmetric members: a key that has any is not a public verification key. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

const MAX_JWKS_BYTES = 512 * 1024;

export interface PinnedKey {
  readonly kid: string;
  readonly alg: string;
  readonly key: CryptoKey;
}

export type KeyLookup = PinnedKey | 'unknown' | 'unavailable';

export interface KeySetOptions {
  readonly url: string;
  readonly now: () => number;
  readonly cooldownMs: number;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  readonly warn: (message: string) => void;
  /** Keys that were published and no longer are: tokens they signed must stop verifying. */
  readonly onKeysRemoved: (kids: ReadonlySet<string>) => void;
}

export class KeySet {
  private keys = new Map<string, PinnedKey>();
  private inflight: Promise<boolean> | null = null;
  private lastAttemptAt = -Infinity;
  private lastAttemptFailed = false;
  private fetches = 0;
  private resolveFirstLoad!: () => void;
  /** Resolves once, when the JWKS has been loaded for the first time. */
  readonly firstLoad: Promise<void> = new Promise((resolve) => {
    this.resolveFirstLoad = resolve;
  });

  constructor(private readonly options: KeySetOptions) {}

  get loaded(): boolean {
    return this.keys.size > 0;
  }

  get size(): number {
    return this.keys.size;
  }

  /** How many times the JWKS was requested (for status and tests). */
  get fetchCount(): number {
    return this.fetches;
  }

  /**
   * The key `kid` names. An unknown `kid` waits for a refetch when one is in flight or the
   * cooldown since the last one has passed; otherwise it is unknown at once.
   */
  async lookup(kid: string): Promise<KeyLookup> {
    const known = this.keys.get(kid);
    if (known) return known;
    if (this.inflight) {
      await this.inflight;
    } else if (this.options.now() - this.lastAttemptAt >= this.options.cooldownMs) {
      await this.refresh();
    }
    return this.keys.get(kid) ?? (this.lastAttemptFailed ? 'unavailable' : 'unknown');
  }

  /** Fetches the JWKS (joining a fetch already in flight); true when it succeeded. */
  refresh(): Promise<boolean> {
    if (this.inflight) return this.inflight;
    this.lastAttemptAt = this.options.now();
    this.fetches++;
    this.inflight = this.fetchKeys().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  private async fetchKeys(): Promise<boolean> {
    try {
      const body = await getJson(this.options.url, {
        timeoutMs: this.options.timeoutMs,
        maxBytes: MAX_JWKS_BYTES,
        signal: this.options.signal,
      });
      const keys = await this.importKeys(body);
      if (keys.size === 0) throw new Error('the JWKS has no usable signing key');
      const removed = new Set([...this.keys.keys()].filter((kid) => !keys.has(kid)));
      this.keys = keys;
      this.lastAttemptFailed = false;
      this.resolveFirstLoad();
      if (removed.size > 0) this.options.onKeysRemoved(removed);
      return true;
    } catch (error) {
      // The keys we hold stay in use: an unreachable issuer does not unpublish them.
      this.lastAttemptFailed = true;
      if (!this.options.signal.aborted) {
        this.options.warn(`JWKS fetch from ${this.options.url} failed: ${describe(error)}`);
      }
      return false;
    }
  }

  private async importKeys(body: unknown): Promise<Map<string, PinnedKey>> {
    const list = (body as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(list)) throw new Error('the JWKS has no "keys" array');
    const keys = new Map<string, PinnedKey>();
    for (const entry of list as unknown[]) {
      const problem = await this.importKey(entry, keys);
      if (problem) this.options.warn(`JWKS key skipped: ${problem}`);
    }
    return keys;
  }

  /** Adds the key to `into`, or says why it is not usable. */
  private async importKey(entry: unknown, into: Map<string, PinnedKey>): Promise<string | null> {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      return 'not an object';
    }
    const jwk = entry as JWK;
    const { kid, alg, use, key_ops: keyOps } = jwk;
    if (typeof kid !== 'string' || kid === '') return 'no "kid"';
    // The algorithm is pinned by the key, never taken from a token header: no "alg", no key.
    if (typeof alg !== 'string' || !ASYMMETRIC_ALGORITHMS.has(alg)) {
      return `key ${kid}: "alg" must name an asymmetric signature algorithm`;
    }
    if (use !== undefined && use !== 'sig') return `key ${kid}: "use" is not "sig"`;
    if (keyOps !== undefined && !(Array.isArray(keyOps) && keyOps.includes('verify'))) {
      return `key ${kid}: "key_ops" does not allow "verify"`;
    }
    if (PRIVATE_MEMBERS.some((member) => member in jwk)) {
      return `key ${kid}: has private or symmetric members`;
    }
    if (into.has(kid)) return `key ${kid}: duplicate "kid"`;
    try {
      const key = await importJWK(jwk, alg);
      if (key instanceof Uint8Array || key.type !== 'public') return `key ${kid}: not a public key`;
      into.set(kid, { kid, alg, key });
      return null;
    } catch (error) {
      return `key ${kid}: ${describe(error)}`;
    }
  }
}
