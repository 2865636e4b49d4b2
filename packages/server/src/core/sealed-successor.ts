// The grace window must hand a retried refresh the *same* successor token, yet the store may only
// hold refresh tokens in a form useless without the token itself. So the successor is kept sealed
// under a key derived from its parent: only whoever presents the parent can open it.
//
// Sealing (v2): the successor's 32 random bytes XOR SHA-256(INFO ‖ parent), stored as "2." and
// base64url. The pad is a one-time pad in all but name: the parent carries 256 secret bits, it
// seals exactly one successor (only the rotation that wins the compare-and-set writes one), and
// the store keeps only a different hash of it (hashSecret, without INFO), so the pad cannot be
// derived from anything stored. Integrity comes from the successor's hash stored beside the seal:
// an opened value is returned only when it hashes to it. One SHA-256 instead of v1's two HMACs and
// an AES-GCM context, on every refresh.
//
// v1 values (AES-256-GCM under HKDF-SHA256 of the parent) still open, so a retry across an upgrade
// inside the grace window gets its successor.
import { createDecipheriv, createHmac, hash } from 'node:crypto';
import { REFRESH_TOKEN_PREFIX, hashSecret } from './random.js';

const V2_PREFIX = '2.';
const V2_INFO = 'latchkey refresh-token successor seal v2\n';
const SECRET_BYTES = 32;

function padFor(parentToken: string): Buffer {
  return hash('sha256', V2_INFO + parentToken, 'buffer');
}

function xorInto(target: Buffer, pad: Buffer): Buffer {
  for (let i = 0; i < target.length; i++) target[i]! ^= pad[i]!;
  return target;
}

/** Seals `successorToken` (a refresh token: the prefix and 32 bytes in base64url) under its parent. */
export function sealSuccessor(parentToken: string, successorToken: string): string {
  const secret = Buffer.from(successorToken.slice(REFRESH_TOKEN_PREFIX.length), 'base64url');
  if (!successorToken.startsWith(REFRESH_TOKEN_PREFIX) || secret.length !== SECRET_BYTES) {
    throw new TypeError('sealSuccessor: not a refresh token');
  }
  return V2_PREFIX + xorInto(secret, padFor(parentToken)).toString('base64url');
}

/**
 * The successor, or `null` unless the sealed value opens with this parent to the token whose hash
 * is `successorHash`.
 */
export function openSuccessor(
  parentToken: string,
  sealed: string,
  successorHash: string,
): string | null {
  const opened = sealed.startsWith(V2_PREFIX)
    ? openV2(parentToken, sealed)
    : openV1(parentToken, sealed);
  return opened !== null && hashSecret(opened) === successorHash ? opened : null;
}

function openV2(parentToken: string, sealed: string): string | null {
  const bytes = Buffer.from(sealed.slice(V2_PREFIX.length), 'base64url');
  if (bytes.length !== SECRET_BYTES) return null;
  return REFRESH_TOKEN_PREFIX + xorInto(bytes, padFor(parentToken)).toString('base64url');
}

const V1_INFO = 'latchkey refresh-token successor v1';
/** HKDF's default salt for SHA-256: HashLen zero bytes (RFC 5869 section 2.2). */
const V1_ZERO_SALT = Buffer.alloc(32);
const V1_FIRST_BLOCK = Buffer.of(1);

/** HKDF-SHA256(parent, salt none, V1_INFO, 32 bytes), written as its two HMACs (RFC 5869). */
function v1KeyFor(parentToken: string): Buffer {
  const prk = createHmac('sha256', V1_ZERO_SALT).update(parentToken).digest();
  return createHmac('sha256', prk).update(V1_INFO).update(V1_FIRST_BLOCK).digest();
}

/** v1: base64url(12-byte IV ‖ AES-256-GCM ciphertext ‖ 16-byte tag). */
function openV1(parentToken: string, sealed: string): string | null {
  const bytes = Buffer.from(sealed, 'base64url');
  if (bytes.length < 12 + 16) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', v1KeyFor(parentToken), bytes.subarray(0, 12));
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    const body = Buffer.concat([
      decipher.update(bytes.subarray(12, bytes.length - 16)),
      decipher.final(),
    ]);
    return body.toString('utf8');
  } catch {
    return null;
  }
}
