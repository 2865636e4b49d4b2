// The verified-token cache: keyed by the exact token, bounded, never past exp, and revocation and
// staleness checked after it on every call.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AccessTokenClaims } from '../src/index.js';
import { VerifiedTokenCache } from '../src/token-cache.js';
import { waitFor } from './support/fake-issuer.js';
import { outcome, startFixture } from './support/setup.js';

const claims = (exp: number): AccessTokenClaims => ({
  iss: 'i',
  sub: 's',
  aud: 'a',
  exp,
  iat: exp - 900,
  jti: 'j',
  client_id: 'c',
  roles: [],
});

describe('VerifiedTokenCache', () => {
  it('never returns an entry at or past exp', () => {
    const cache = new VerifiedTokenCache(10);
    cache.set('t', claims(1_000), 'k', 999_000);
    assert.ok(cache.get('t', 999_999));
    assert.equal(cache.get('t', 1_000_000), undefined);
    assert.equal(cache.size, 0);
    cache.set('late', claims(1_000), 'k', 1_000_000);
    assert.equal(cache.size, 0, 'an already expired token is not stored');
  });

  it('is bounded, oldest out first', () => {
    const cache = new VerifiedTokenCache(2);
    for (const token of ['a', 'b', 'c']) cache.set(token, claims(2_000), 'k', 0);
    assert.equal(cache.size, 2);
    assert.equal(cache.get('a', 0), undefined);
    assert.ok(cache.get('b', 0));
    assert.ok(cache.get('c', 0));
  });

  it('stores nothing with capacity 0, and forgets the tokens of dropped keys', () => {
    const none = new VerifiedTokenCache(0);
    none.set('a', claims(2_000), 'k', 0);
    assert.equal(none.size, 0);
    const cache = new VerifiedTokenCache(10);
    cache.set('a', claims(2_000), 'k1', 0);
    cache.set('b', claims(2_000), 'k2', 0);
    cache.dropKeys(new Set(['k1']));
    assert.equal(cache.get('a', 0), undefined);
    assert.ok(cache.get('b', 0));
  });
});

describe('verifier with the cache', () => {
  it('checks revocation after a cache hit', async () => {
    const f = await startFixture();
    try {
      const token = await f.issuer.sign(f.clock.ms, { sid: 'cached' });
      assert.equal(await outcome(f.verifier, token), 'ok');
      assert.equal(f.verifier.status().cachedTokens, 1);
      f.issuer.revoke('session', 'cached', { at: f.clock.ms, until: f.clock.ms + 3_600_000 });
      await waitFor(async () => (await outcome(f.verifier, token)) === 'token_revoked');
    } finally {
      await f.close();
    }
  });

  it('never serves a token past exp from the cache; expiry is judged afresh with the skew', async () => {
    const f = await startFixture({ feed: false });
    try {
      const exp = Math.floor(f.clock.ms / 1000) + 10;
      const token = await f.issuer.sign(f.clock.ms, { exp });
      assert.equal(await outcome(f.verifier, token), 'ok');
      f.clock.ms = exp * 1000 + 4_000; // within the 5 s skew: full verification accepts it
      assert.equal(await outcome(f.verifier, token), 'ok');
      assert.equal(f.verifier.status().cachedTokens, 0, 'not cached again past exp');
      f.clock.ms = exp * 1000 + 5_000;
      assert.equal(await outcome(f.verifier, token), 'token_expired');
    } finally {
      await f.close();
    }
  });

  it('is bounded by cacheSize, and can be disabled', async () => {
    const bounded = await startFixture({ feed: false, verifier: { cacheSize: 2 } });
    const disabled = await startFixture({ feed: false, verifier: { cacheSize: 0 } });
    try {
      for (let i = 0; i < 5; i++) {
        assert.equal(
          await outcome(bounded.verifier, await bounded.issuer.sign(bounded.clock.ms)),
          'ok',
        );
        assert.equal(
          await outcome(disabled.verifier, await disabled.issuer.sign(disabled.clock.ms)),
          'ok',
        );
      }
      assert.equal(bounded.verifier.status().cachedTokens, 2);
      assert.equal(disabled.verifier.status().cachedTokens, 0);
    } finally {
      await bounded.close();
      await disabled.close();
    }
  });

  it('is keyed by the exact string: a re-spelling of a cached token is refused', async () => {
    const f = await startFixture({ feed: false });
    try {
      const token = await f.issuer.sign(f.clock.ms);
      assert.equal(await outcome(f.verifier, token), 'ok');
      const [header, payload, signature] = token.split('.') as [string, string, string];
      assert.equal(
        await outcome(f.verifier, `${header}.${payload}.${signature}=`),
        'token_invalid',
      );
      assert.equal(
        await outcome(f.verifier, `${header}.${payload}.${signature.slice(0, -1)}B`),
        'token_invalid',
      );
    } finally {
      await f.close();
    }
  });
});
