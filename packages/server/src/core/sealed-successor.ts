// The grace window must hand a retried refresh the *same* successor token, yet the store may only
// hold refresh tokens in a form useless without the token itself. So the successor is kept
// encrypted under a key derived from its parent: only whoever presents the parent can open it.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const INFO = 'latchkey refresh-token successor v1';

function keyFor(parentToken: string): Buffer {
  return Buffer.from(hkdfSync('sha256', parentToken, Buffer.alloc(0), INFO, 32));
}

export function sealSuccessor(parentToken: string, successorToken: string): string {
  const iv = randomBytes(12);
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
