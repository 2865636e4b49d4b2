// The grace window must hand a retried refresh the *same* successor token, yet the store may only
// hold refresh tokens in a form useless without the token itself. So the successor is kept
// encrypted under a key derived from its parent: only whoever presents the parent can open it.
import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import { cryptoRandom } from './random.js';

const INFO = 'latchkey refresh-token successor v1';
/** HKDF's default salt for SHA-256: HashLen zero bytes (RFC 5869 section 2.2). */
const ZERO_SALT = Buffer.alloc(32);
const FIRST_BLOCK = Buffer.of(1);

/**
 * HKDF-SHA256(parent, salt none, INFO, 32 bytes), written as its two HMACs (RFC 5869): the same
 * bytes as node's hkdfSync, at half the cost on the refresh path.
 */
function keyFor(parentToken: string): Buffer {
  const prk = createHmac('sha256', ZERO_SALT).update(parentToken).digest();
  return createHmac('sha256', prk).update(INFO).update(FIRST_BLOCK).digest();
}

export function sealSuccessor(parentToken: string, successorToken: string): string {
  const iv = cryptoRandom.bytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyFor(parentToken), iv);
  const body = Buffer.concat([cipher.update(successorToken, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
}

/** The successor, or `null` when the sealed value was not made with this parent. */
export function openSuccessor(parentToken: string, sealed: string): string | null {
  const bytes = Buffer.from(sealed, 'base64url');
  if (bytes.length < 12 + 16) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyFor(parentToken), bytes.subarray(0, 12));
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
