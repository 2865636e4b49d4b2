// Signing keys: generated on first start, kept in storage, rotated by `latchkey keys rotate`.
// A retired key stays published until every token it signed has expired.
import { createHash } from 'node:crypto';
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type CryptoKey,
  type JWK,
  type JWSHeaderParameters,
} from 'jose';
import type { SigningAlgorithm } from '../config/types.js';
import type { KeyStore } from '../ports/storage.js';
import type { Clock } from './clock.js';
import type { SigningKeyRecord } from './model.js';
import { isSealed, openPrivateJwk, sealPrivateJwk, sealingKey } from './private-key-seal.js';

export interface ActiveKey {
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  readonly key: CryptoKey | Uint8Array;
}

interface LoadedKey {
  readonly record: SigningKeyRecord;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly publicJwk: JWK;
}

export interface KeyRingOptions {
  readonly algorithm: SigningAlgorithm;
  readonly hs256Secret: string | null;
  /** Encrypts private keys at rest (private-key-seal.ts); `null` stores them plain. */
  readonly encryptionSecret: string | null;
  /** The longest access-token lifetime of any client: how long a retired key stays published. */
  readonly maxAccessTtlMs: number;
  readonly clock: Clock;
}

const PUBLISH_MARGIN_MS = 60_000;
const UNKNOWN_KEY_RELOAD_MS = 1000;

async function generateSigningKey(
  algorithm: Exclude<SigningAlgorithm, 'HS256'>,
  now: number,
  sealWith: Buffer | null,
): Promise<SigningKeyRecord> {
  const options =
    algorithm === 'RS256' ? { extractable: true, modulusLength: 2048 } : { extractable: true };
  const pair = await generateKeyPair(algorithm, options);
  const publicJwk = await exportJWK(pair.publicKey);
  const privateJwk = await exportJWK(pair.privateKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  return {
    kid,
    alg: algorithm,
    publicJwk: JSON.stringify({ ...publicJwk, kid, alg: algorithm, use: 'sig' }),
    privateJwk:
      sealWith === null
        ? JSON.stringify(privateJwk)
        : sealPrivateJwk(JSON.stringify(privateJwk), kid, sealWith),
    createdAt: now,
    retiredAt: null,
  };
}

async function loadKey(record: SigningKeyRecord, sealedWith: Buffer | null): Promise<LoadedKey> {
  const publicJwk = JSON.parse(record.publicJwk) as JWK;
  const privateJwk = openPrivateJwk(record.privateJwk, record.kid, sealedWith);
  const privateKey = (await importJWK(JSON.parse(privateJwk) as JWK, record.alg)) as CryptoKey;
  const publicKey = (await importJWK(publicJwk, record.alg)) as CryptoKey;
  return { record, privateKey, publicKey, publicJwk };
}

export class KeyRing {
  private keys: LoadedKey[] = [];
  private lastUnknownKeyReload = 0;
  private readonly hmacKey: ActiveKey | null;
  private readonly sealWith: Buffer | null;

  constructor(
    private readonly store: KeyStore,
    private readonly options: KeyRingOptions,
  ) {
    this.hmacKey =
      options.algorithm === 'HS256' && options.hs256Secret !== null
        ? {
            // A short digest names the secret without revealing anything usable about it.
            kid:
              'hs256-' +
              createHash('sha256').update(options.hs256Secret).digest('hex').slice(0, 16),
            alg: 'HS256',
            key: new TextEncoder().encode(options.hs256Secret),
          }
        : null;
    this.sealWith = options.encryptionSecret === null ? null : sealingKey(options.encryptionSecret);
  }

  /**
   * Loads keys and creates the first one, or a new one for a newly configured algorithm or, once
   * an encryption secret is configured, in place of a current key stored plain (the plain one is
   * retired and deleted when its tokens have expired).
   */
  async initialise(): Promise<void> {
    await this.reload();
    if (this.options.algorithm === 'HS256') return;
    const current = this.currentRecord();
    if (
      !current ||
      current.alg !== this.options.algorithm ||
      (this.sealWith !== null && !isSealed(current.privateJwk))
    ) {
      await this.rotate();
    }
  }

  async reload(): Promise<void> {
    const records = await this.store.listSigningKeys();
    const known = new Map(this.keys.map((k) => [k.record.kid, k]));
    const loaded: LoadedKey[] = [];
    for (const record of records) {
      const existing = known.get(record.kid);
      loaded.push(
        existing && existing.record.retiredAt === record.retiredAt
          ? existing
          : await loadKey(record, this.sealWith),
      );
    }
    this.keys = loaded;
  }

  /** A new key signs from now on; the previous one is retired but stays published. */
  async rotate(): Promise<SigningKeyRecord> {
    if (this.options.algorithm === 'HS256') {
      throw new Error('HS256 keys come from tokens.hs256Secret: change the secret to rotate');
    }
    const now = this.options.clock.now();
    const record = await generateSigningKey(this.options.algorithm, now, this.sealWith);
    await this.store.addSigningKey(record, now);
    await this.pruneExpired();
    await this.reload();
    return record;
  }

  /** Deletes retired keys that can no longer have a valid token. */
  async pruneExpired(): Promise<void> {
    const now = this.options.clock.now();
    const records = await this.store.listSigningKeys();
    const expired = records.filter((r) => r.retiredAt !== null && !this.stillPublished(r, now));
    await this.store.deleteSigningKeys(expired.map((r) => r.kid));
  }

  private stillPublished(record: SigningKeyRecord, now: number): boolean {
    return (
      record.retiredAt === null ||
      record.retiredAt + this.options.maxAccessTtlMs + PUBLISH_MARGIN_MS > now
    );
  }

  private currentRecord(): SigningKeyRecord | undefined {
    return this.keys.find((k) => k.record.retiredAt === null)?.record;
  }

  signingKey(): ActiveKey {
    if (this.hmacKey) return this.hmacKey;
    const current = this.keys.find((k) => k.record.retiredAt === null);
    if (!current) throw new Error('no signing key loaded');
    return {
      kid: current.record.kid,
      alg: current.record.alg as SigningAlgorithm,
      key: current.privateKey,
    };
  }

  /** Algorithms a token may claim: only those of keys we hold. */
  allowedAlgorithms(): string[] {
    if (this.hmacKey) return ['HS256'];
    return [...new Set(this.keys.map((k) => k.record.alg))];
  }

  /**
   * jose key resolver: the `kid` must name one of our keys and the header `alg` must be that key's
   * algorithm. Embedded `jwk`/`jku` headers are never consulted.
   */
  readonly resolveVerificationKey = async (
    header: JWSHeaderParameters,
  ): Promise<CryptoKey | Uint8Array> => {
    if (this.hmacKey) {
      if (header.kid === this.hmacKey.kid && header.alg === 'HS256') return this.hmacKey.key;
      throw new Error('unknown key');
    }
    const now = this.options.clock.now();
    let match = this.keys.find((k) => k.record.kid === header.kid);
    // Another instance may have rotated moments ago: look again, at most once a second, so
    // forged key IDs cannot turn into a database read per request.
    if (!match && now - this.lastUnknownKeyReload >= UNKNOWN_KEY_RELOAD_MS) {
      this.lastUnknownKeyReload = now;
      await this.reload();
      match = this.keys.find((k) => k.record.kid === header.kid);
    }
    if (!match || match.record.alg !== header.alg) throw new Error('unknown key');
    if (!this.stillPublished(match.record, now)) throw new Error('key expired');
    return match.publicKey;
  };

  /** The public JWKS: never a private member, never the HMAC secret. */
  jwks(): { keys: JWK[] } {
    const now = this.options.clock.now();
    return {
      keys: this.keys.filter((k) => this.stillPublished(k.record, now)).map((k) => k.publicJwk),
    };
  }
}
