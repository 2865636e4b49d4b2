import { hash, randomFillSync } from 'node:crypto';

export interface RandomSource {
  bytes(length: number): Uint8Array;
}

/** Bytes drawn from the CSPRNG at once; requests larger than this are served on their own. */
const POOL_BYTES = 4096;

/**
 * The operating system's CSPRNG, drawn in 4 KiB batches: a refresh needs four small random values
 * (token, token ID, nonce, event ID) and each separate draw is a call into OpenSSL. Every byte is
 * handed out once; a used-up batch is never refilled in place (callers may keep views of it), a
 * new one is drawn.
 */
export class PooledRandom implements RandomSource {
  private pool = Buffer.alloc(0);
  private offset = 0;

  bytes(length: number): Uint8Array {
    if (length > POOL_BYTES) return randomFillSync(Buffer.alloc(length));
    if (this.offset + length > this.pool.length) {
      this.pool = randomFillSync(Buffer.alloc(POOL_BYTES));
      this.offset = 0;
    }
    const bytes = this.pool.subarray(this.offset, this.offset + length);
    this.offset += length;
    return bytes;
  }
}

export const cryptoRandom: RandomSource = new PooledRandom();

const base64url = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');

/** 256 bits: the floor API.md sets for every bearer secret. */
const SECRET_BYTES = 32;

export const REFRESH_TOKEN_PREFIX = 'lkr_';

export function generateRefreshToken(random: RandomSource): string {
  return REFRESH_TOKEN_PREFIX + base64url(random.bytes(SECRET_BYTES));
}

export function generateSessionSecret(random: RandomSource): string {
  return base64url(random.bytes(SECRET_BYTES));
}

/**
 * Bearer secrets are stored only as this hash; 256 random bits need no salt or stretching. Every
 * cookie request and refresh computes it: the one-shot `hash` is a quarter of createHash's cost.
 */
export function hashSecret(secret: string): string {
  return hash('sha256', secret, 'base64url');
}

/**
 * Time-ordered identifiers (UUIDv7 layout, RFC 9562): sorting by ID sorts by creation, which is
 * what cursor paging wants, and 74 random bits keep them unguessable enough for public IDs.
 */
export function generateId(prefix: string, nowMs: number, random: RandomSource): string {
  const bytes = Buffer.from(random.bytes(16));
  bytes.writeUIntBE(nowMs, 0, 6);
  bytes[6] = 0x70 | (bytes[6]! & 0x0f);
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString('hex');
  return `${prefix}_${hex}`;
}
