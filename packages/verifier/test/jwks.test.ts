// The JWKS cache: one refetch for a burst of unknown kids (and none again within the cooldown),
// key rotation (old-key tokens keep verifying until they expire), unpublished keys, timeouts and
// an unreachable issuer.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { FakeIssuer } from './support/fake-issuer.js';
import { outcome, startFixture } from './support/setup.js';

describe('JWKS: unknown kids', () => {
  it('a burst of tokens with unknown kids costs one refetch, then none until the cooldown ends', async () => {
    const f = await startFixture({ feed: false, verifier: { jwksCooldown: 30_000 } });
    try {
      const attacker = await FakeIssuer.start();
      const forged = await Promise.all(
        Array.from({ length: 50 }, () =>
          attacker.sign(
            f.clock.ms,
            { iss: f.issuer.url },
            {
              header: { kid: randomBytes(8).toString('hex') },
            },
          ),
        ),
      );
      await attacker.close();
      f.clock.advance(30_000);
      const before = f.issuer.jwksRequests;
      const results = await Promise.all(forged.map((token) => outcome(f.verifier, token)));
      assert.deepEqual(new Set(results), new Set(['token_invalid']));
      assert.equal(f.issuer.jwksRequests - before, 1, 'one refetch for the whole burst');

      // Sequentially, still inside the cooldown: no more fetches.
      f.clock.advance(29_000);
      for (const token of forged.slice(0, 10)) await outcome(f.verifier, token);
      assert.equal(f.issuer.jwksRequests - before, 1);

      // Cooldown over: one more.
      f.clock.advance(1_000);
      for (const token of forged.slice(0, 10)) await outcome(f.verifier, token);
      assert.equal(f.issuer.jwksRequests - before, 2);
    } finally {
      await f.close();
    }
  });

  it('tokens with known kids keep verifying while unknown ones are refused', async () => {
    const f = await startFixture({ feed: false });
    try {
      const good = await f.issuer.sign(f.clock.ms);
      const unknown = await f.issuer.sign(f.clock.ms, {}, { header: { kid: 'nope' } });
      const results = await Promise.all([
        outcome(f.verifier, good),
        outcome(f.verifier, unknown),
        outcome(f.verifier, good),
      ]);
      assert.deepEqual(results, ['ok', 'token_invalid', 'ok']);
    } finally {
      await f.close();
    }
  });
});

describe('JWKS: key rotation', () => {
  it('verifies tokens of the new key after one refetch, and old-key tokens until they expire', async () => {
    const f = await startFixture({ feed: false, verifier: { cacheSize: 0 } });
    try {
      const oldToken = await f.issuer.sign(f.clock.ms, { exp: Math.floor(f.clock.ms / 1000) + 60 });
      assert.equal(await outcome(f.verifier, oldToken), 'ok');

      const newKey = await f.issuer.addKey();
      f.clock.advance(30_000); // past the cooldown since the first fetch
      const newToken = await f.issuer.sign(f.clock.ms, {}, { key: newKey });
      const before = f.issuer.jwksRequests;
      assert.equal(await outcome(f.verifier, newToken), 'ok');
      assert.equal(f.issuer.jwksRequests - before, 1);
      // Both keys now known: neither costs a fetch.
      assert.equal(await outcome(f.verifier, oldToken), 'ok');
      assert.equal(await outcome(f.verifier, newToken), 'ok');
      assert.equal(f.issuer.jwksRequests - before, 1);

      // The old key's tokens expire on their own schedule (exp + 5 s default skew).
      f.clock.advance(34_000);
      assert.equal(await outcome(f.verifier, oldToken), 'ok');
      f.clock.advance(2_000);
      assert.equal(await outcome(f.verifier, oldToken), 'token_expired');
      assert.equal(await outcome(f.verifier, newToken), 'ok');
    } finally {
      await f.close();
    }
  });

  it('stops accepting (cached) tokens of a key once the issuer unpublishes it', async () => {
    const f = await startFixture({ feed: false });
    try {
      const oldKey = f.issuer.currentKey;
      const oldToken = await f.issuer.sign(f.clock.ms);
      assert.equal(await outcome(f.verifier, oldToken), 'ok');
      assert.equal(f.verifier.status().cachedTokens, 1);

      const newKey = await f.issuer.addKey();
      f.issuer.published.delete(oldKey.kid);
      f.clock.advance(30_000);
      // The next refetch (here: caused by a token of the new key) learns that the old key is gone.
      assert.equal(
        await outcome(f.verifier, await f.issuer.sign(f.clock.ms, {}, { key: newKey })),
        'ok',
      );
      assert.equal(await outcome(f.verifier, oldToken), 'token_invalid');
    } finally {
      await f.close();
    }
  });
});

describe('JWKS: an unavailable issuer', () => {
  it('times out a JWKS request that hangs, and reports keys_unavailable', async () => {
    const issuer = await FakeIssuer.start();
    issuer.jwksMode = 'hang';
    const f = await startFixture({
      issuer,
      feed: false,
      ready: false,
      verifier: { requestTimeout: 100, readyTimeout: 400 },
    });
    try {
      const token = await issuer.sign(f.clock.ms);
      const started = Date.now();
      assert.equal(await outcome(f.verifier, token), 'keys_unavailable');
      assert.ok(Date.now() - started < 1_000, 'bounded by the request timeout');
      await assert.rejects(f.verifier.ready(), { name: 'VerifierError', code: 'keys_unavailable' });
      assert.ok(f.warnings.some((w) => w.startsWith('JWKS fetch')));
    } finally {
      await f.close();
    }
  });

  it('recovers when the JWKS becomes reachable', async () => {
    const issuer = await FakeIssuer.start();
    issuer.jwksMode = 'refuse';
    const f = await startFixture({
      issuer,
      feed: false,
      ready: false,
      verifier: { jwksCooldown: 1_000 },
    });
    try {
      const token = await issuer.sign(f.clock.ms);
      assert.equal(await outcome(f.verifier, token), 'keys_unavailable');
      issuer.jwksMode = 'ok';
      f.clock.advance(1_000);
      assert.equal(await outcome(f.verifier, token), 'ok');
      await f.verifier.ready();
    } finally {
      await f.close();
    }
  });

  it('keeps the keys it has when a refetch fails', async () => {
    const f = await startFixture({ feed: false, verifier: { cacheSize: 0 } });
    try {
      const token = await f.issuer.sign(f.clock.ms);
      f.issuer.jwksMode = 'refuse';
      f.clock.advance(30_000);
      assert.equal(
        await outcome(f.verifier, await f.issuer.sign(f.clock.ms, {}, { header: { kid: 'x' } })),
        'keys_unavailable',
      );
      assert.equal(await outcome(f.verifier, token), 'ok');
      f.issuer.jwksMode = 'not_found';
      f.clock.advance(30_000);
      assert.equal(
        await outcome(f.verifier, await f.issuer.sign(f.clock.ms, {}, { header: { kid: 'y' } })),
        'keys_unavailable',
      );
      assert.equal(await outcome(f.verifier, token), 'ok');
    } finally {
      await f.close();
    }
  });
});
