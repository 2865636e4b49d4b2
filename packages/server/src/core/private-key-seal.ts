// Private signing keys at rest. With `keys.encryptionSecret` set, the private JWK is stored
// encrypted: AES-256-GCM under a key derived from the secret (HKDF-SHA256), a fresh 96-bit nonce per
// key, and the key's `kid` as associated data, so a sealed value moved onto another key's row does
// not open. A database dump or backup then holds no usable signing key without the secret, which
// lives only in the servers' configuration.
//
// Stored form: "lk-sealed-v1." + base64url(nonce ‖ ciphertext ‖ tag). Anything else is a plain
// JWK written before the secret was configured (or without one); it still loads, and rotating the
// keys replaces it with a sealed one.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const PREFIX = 'lk-sealed-v1.';
const INFO = 'latchkey private signing key seal v1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** Why a stored private key could not be used: wrong or missing secret, or a damaged value. */
export class KeySealError extends Error {
  override readonly name = 'KeySealError';
}

/** The AES key for one encryption secret; derive once per secret. */
export function sealingKey(encryptionSecret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', encryptionSecret, Buffer.alloc(0), INFO, 32));
}

export function isSealed(storedPrivateJwk: string): boolean {
  return storedPrivateJwk.startsWith(PREFIX);
}

export function sealPrivateJwk(privateJwk: string, kid: string, key: Buffer): string {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce).setAAD(Buffer.from(kid, 'utf8'));
  const body = Buffer.concat([cipher.update(privateJwk, 'utf8'), cipher.final()]);
  return PREFIX + Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64url');
}

/**
 * The private JWK as stored for `kid`: opened when sealed, as is when plain. Throws KeySealError
 * when sealed and `key` is missing or does not open it; the message names the key, never a secret.
 */
export function openPrivateJwk(stored: string, kid: string, key: Buffer | null): string {
  if (!isSealed(stored)) return stored;
  if (key === null) {
    throw new KeySealError(
      `signing key ${kid} is encrypted: set keys.encryptionSecret (LATCHKEY_KEY_ENCRYPTION_SECRET)`,
    );
  }
  const raw = Buffer.from(stored.slice(PREFIX.length), 'base64url');
  if (raw.length <= NONCE_BYTES + TAG_BYTES) {
    throw new KeySealError(`signing key ${kid}: the sealed value is damaged`);
  }
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, NONCE_BYTES))
    .setAAD(Buffer.from(kid, 'utf8'))
    .setAuthTag(raw.subarray(raw.length - TAG_BYTES));
  try {
    const body = raw.subarray(NONCE_BYTES, raw.length - TAG_BYTES);
    return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
  } catch {
    throw new KeySealError(
      `signing key ${kid} does not open with keys.encryptionSecret: is it the secret the key was stored with?`,
    );
  }
}
