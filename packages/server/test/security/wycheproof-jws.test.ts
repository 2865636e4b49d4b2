// Project Wycheproof's JWS vectors (see wycheproof-jws-vectors.ts) against the verification that
// Latchkey and @latchkey/verifier rely on: jose's compact verification with the algorithm pinned
// to the key's, as jwtVerify does before reading any claim. Valid vectors verify and carry their
// payload; every invalid one is refused. None of them is a Latchkey access token, so a running
// Latchkey answers each with the same 401.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { compactVerify, importJWK } from 'jose';
import { getMe, startTestServer, type TestServer } from '../support/harness.js';
import { WYCHEPROOF_JWS_GROUPS } from './wycheproof-jws-vectors.js';

void describe('Wycheproof JWS vectors', () => {
  for (const group of WYCHEPROOF_JWS_GROUPS) {
    void describe(group.comment, () => {
      const alg = group.key.alg!;
      for (const vector of group.tests) {
        void it(`${vector.tcId} ${vector.comment}: ${vector.result}`, async () => {
          const key = await importJWK(group.key, alg);
          const verifying = compactVerify(vector.jws, key, { algorithms: [alg] });
          if (vector.result === 'valid') {
            const { payload } = await verifying;
            assert.equal(new TextDecoder().decode(payload), 'foo');
          } else {
            await assert.rejects(verifying);
          }
        });
      }
    });
  }

  void describe('against a running Latchkey', () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer();
    });
    after(() => server.close());

    void it('answers every vector, valid or not, with the one invalid-token 401', async () => {
      const answers = new Set<string>();
      for (const vector of WYCHEPROOF_JWS_GROUPS.flatMap((group) => group.tests)) {
        const response = await getMe(server, vector.jws);
        assert.equal(response.statusCode, 401, `tcId ${vector.tcId}`);
        answers.add(`${String(response.headers['www-authenticate'])} ${response.body}`);
      }
      // The empty vectors send a bare "Bearer": that is a missing token, the rest are invalid ones.
      assert.ok(answers.size <= 2, [...answers].join('\n'));
      assert.ok([...answers].some((answer) => answer.includes('error="invalid_token"')));
    });
  });
});
