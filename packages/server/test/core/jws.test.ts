// Tokens signed by JwsSigner verify with jose under every supported algorithm, and the header it
// writes names the algorithm of the key, whatever the caller passed.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { compactVerify, decodeProtectedHeader, generateKeyPair } from 'jose';
import type { SigningAlgorithm } from '../../src/config/types.js';
import { JwsSigner } from '../../src/core/jws.js';

const PAYLOAD = { sub: 'usr_1', roles: ['admin'], exp: 2_000_000_000, text: 'é ✓' };

void describe('JwsSigner', () => {
  for (const alg of ['EdDSA', 'ES256', 'RS256'] as const satisfies SigningAlgorithm[]) {
    void it(`signs ${alg} that jose verifies with the public key`, async () => {
      const { privateKey, publicKey } = await generateKeyPair(alg);
      const token = await new JwsSigner(alg, privateKey).sign(
        { kid: 'k1', typ: 'at+jwt', alg: 'none' },
        PAYLOAD,
      );
      const { payload, protectedHeader } = await compactVerify(token, publicKey, {
        algorithms: [alg],
      });
      assert.deepEqual(protectedHeader, { kid: 'k1', typ: 'at+jwt', alg });
      assert.deepEqual(JSON.parse(new TextDecoder().decode(payload)), PAYLOAD);
    });
  }

  void it('signs HS256 with the shared secret', async () => {
    const secret = randomBytes(32);
    const token = await new JwsSigner('HS256', secret).sign({ kid: 'h' }, PAYLOAD);
    assert.equal(decodeProtectedHeader(token).alg, 'HS256');
    const { payload } = await compactVerify(token, secret, { algorithms: ['HS256'] });
    assert.deepEqual(JSON.parse(new TextDecoder().decode(payload)), PAYLOAD);
    await assert.rejects(compactVerify(token, randomBytes(32), { algorithms: ['HS256'] }));
  });
});
