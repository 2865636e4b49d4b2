// The successor sealed under its parent opens only with that parent and only to the token whose
// hash is stored beside it; values sealed by earlier versions (AES-GCM under HKDF) still open.
import assert from 'node:assert/strict';
import { createCipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { hashSecret } from '../../src/core/random.js';
import { openSuccessor, sealSuccessor } from '../../src/core/sealed-successor.js';

const token = () => `lkr_${randomBytes(32).toString('base64url')}`;

void describe('sealed successor', () => {
  void it('opens with the parent and nothing else', () => {
    const parent = token();
    const successor = token();
    const sealed = sealSuccessor(parent, successor);
    assert.equal(openSuccessor(parent, sealed, hashSecret(successor)), successor);
    assert.equal(openSuccessor(token(), sealed, hashSecret(successor)), null);
  });

  void it('shows nothing of the successor and differs for every parent', () => {
    const successor = token();
    const a = sealSuccessor(token(), successor);
    const b = sealSuccessor(token(), successor);
    assert.notEqual(a, b);
    assert.ok(!a.includes(successor.slice(4, 20)));
    assert.match(a, /^2\.[A-Za-z0-9_-]{43}$/);
  });

  void it('opens only to the token whose hash is stored beside the seal', () => {
    const parent = token();
    const successor = token();
    const sealed = sealSuccessor(parent, successor);
    assert.equal(openSuccessor(parent, sealed, hashSecret(token())), null);
    // A seal altered in the store opens to another value, which its hash check refuses.
    const flipped = sealed.slice(0, 10) + (sealed[10] === 'A' ? 'B' : 'A') + sealed.slice(11);
    assert.equal(openSuccessor(parent, flipped, hashSecret(successor)), null);
    assert.equal(openSuccessor(parent, '2.short', hashSecret(successor)), null);
    assert.equal(openSuccessor(parent, 'garbage', hashSecret(successor)), null);
  });

  void it('refuses to seal what is not a refresh token', () => {
    assert.throws(() => sealSuccessor(token(), 'lkr_short'), TypeError);
    assert.throws(() => sealSuccessor(token(), `xyz_${randomBytes(32).toString('base64url')}`));
  });

  void it('opens values sealed with AES-256-GCM under the HKDF-SHA256 key of v1', () => {
    const parent = token();
    const successor = token();
    const key = Buffer.from(
      hkdfSync('sha256', parent, Buffer.alloc(0), 'latchkey refresh-token successor v1', 32),
    );
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    const body = Buffer.concat([cipher.update(successor, 'utf8'), cipher.final()]);
    const sealed = Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
    assert.equal(openSuccessor(parent, sealed, hashSecret(successor)), successor);
    assert.equal(openSuccessor(token(), sealed, hashSecret(successor)), null);
  });
});
