// The successor sealed under its parent opens only with that parent, and values sealed with the
// HKDF of node:crypto (before the key derivation was written as two HMACs) still open.
import assert from 'node:assert/strict';
import { createCipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { openSuccessor, sealSuccessor } from '../../src/core/sealed-successor.js';

const token = () => `lkr_${randomBytes(32).toString('base64url')}`;

void describe('sealed successor', () => {
  void it('opens with the parent and nothing else', () => {
    const parent = token();
    const successor = token();
    const sealed = sealSuccessor(parent, successor);
    assert.equal(openSuccessor(parent, sealed), successor);
    assert.equal(openSuccessor(token(), sealed), null);
    assert.notEqual(sealSuccessor(parent, successor), sealed, 'a fresh nonce each time');
  });

  void it('opens values sealed under the HKDF-SHA256 key of earlier versions', () => {
    const parent = token();
    const successor = token();
    const key = Buffer.from(
      hkdfSync('sha256', parent, Buffer.alloc(0), 'latchkey refresh-token successor v1', 32),
    );
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    const body = Buffer.concat([cipher.update(successor, 'utf8'), cipher.final()]);
    const sealed = Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
    assert.equal(openSuccessor(parent, sealed), successor);
  });
});
