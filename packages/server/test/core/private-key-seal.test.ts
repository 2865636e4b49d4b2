// Private signing keys sealed at rest: what opens, and everything that must not.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  KeySealError,
  isSealed,
  openPrivateJwk,
  sealPrivateJwk,
  sealingKey,
} from '../../src/core/private-key-seal.js';

const SECRET = 'a key-encryption secret of at least 32 bytes';
const JWK = JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x: 'public-part', d: 'private-part' });
const KID = 'kid-1';

void describe('private key seal', () => {
  const key = sealingKey(SECRET);

  void it('opens what it sealed, for the same kid, and shows nothing of the key', () => {
    const sealed = sealPrivateJwk(JWK, KID, key);
    assert.ok(isSealed(sealed));
    assert.doesNotMatch(sealed, /private-part|public-part|Ed25519/);
    assert.equal(openPrivateJwk(sealed, KID, sealingKey(SECRET)), JWK);
    // A fresh nonce each time: the same key never seals to the same value.
    assert.notEqual(sealPrivateJwk(JWK, KID, key), sealed);
  });

  void it('passes a plain JWK through, secret or not', () => {
    assert.equal(isSealed(JWK), false);
    assert.equal(openPrivateJwk(JWK, KID, key), JWK);
    assert.equal(openPrivateJwk(JWK, KID, null), JWK);
  });

  void it('refuses without the secret, with another secret, for another kid, or damaged', () => {
    const sealed = sealPrivateJwk(JWK, KID, key);
    const refusals: Array<[string, () => string, RegExp]> = [
      ['no secret', () => openPrivateJwk(sealed, KID, null), /set keys\.encryptionSecret/],
      [
        'another secret',
        () => openPrivateJwk(sealed, KID, sealingKey(`${SECRET}!`)),
        /does not open/,
      ],
      ['another kid', () => openPrivateJwk(sealed, 'kid-2', key), /does not open/],
      ['truncated', () => openPrivateJwk(sealed.slice(0, 30), KID, key), /damaged|does not open/],
    ];
    const bytes = Buffer.from(sealed.slice('lk-sealed-v1.'.length), 'base64url');
    for (let i = 0; i < bytes.length; i += 7) {
      const flipped = Buffer.from(bytes);
      flipped[i]! ^= 0x01;
      refusals.push([
        `bit flipped at ${i}`,
        () => openPrivateJwk(`lk-sealed-v1.${flipped.toString('base64url')}`, KID, key),
        /does not open/,
      ]);
    }
    for (const [what, open, message] of refusals) {
      assert.throws(open, (error: unknown) => {
        assert.ok(error instanceof KeySealError, what);
        assert.match(error.message, message, what);
        assert.doesNotMatch(error.message, new RegExp(SECRET), what);
        return true;
      });
    }
  });
});
