// The in-memory revocation state: idempotent application, expiry after `until` plus the clock
// skew (so a revoked token cannot come back to life inside the skew window).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RevocationSet, type Revocation } from '../src/revocation-set.js';
import { parseRevocationEvent } from '../src/revocation-feed.js';
import { outcome, startFixture } from './support/setup.js';
import { waitFor } from './support/fake-issuer.js';

const event = (kind: Revocation['kind'], id: string, at: number, until: number, seq = 1) => ({
  seq,
  kind,
  id,
  at,
  until,
});

describe('RevocationSet', () => {
  it('applies an event twice to the same effect', () => {
    const set = new RevocationSet(0);
    const user = event('user', 'u', 10_000, 50_000);
    set.apply(user, 0);
    set.apply(user, 0);
    assert.equal(set.size, 1);
    assert.ok(set.isRevoked({ sub: 'u', jti: 'j', iat: 9 }));
    assert.ok(!set.isRevoked({ sub: 'u', jti: 'j', iat: 10 }));
  });

  it('keeps the latest epoch and the longest until, whatever the order', () => {
    const set = new RevocationSet(0);
    set.apply(event('user', 'u', 20_000, 90_000, 2), 0);
    set.apply(event('user', 'u', 10_000, 50_000, 1), 0);
    assert.ok(set.isRevoked({ sub: 'u', jti: 'j', iat: 19 }));
    set.prune(60_000);
    assert.equal(set.size, 1, 'kept until the longer until');
  });

  it('drops entries once until plus the skew has passed', () => {
    const set = new RevocationSet(5_000);
    set.apply(event('session', 's', 0, 10_000), 0);
    set.apply(event('token', 't', 0, 10_000), 0);
    set.apply(event('user', 'u', 0, 10_000), 0);
    set.prune(15_000);
    assert.equal(set.size, 3);
    set.prune(15_001);
    assert.equal(set.size, 0);
    assert.equal(set.apply(event('token', 'late', 0, 10_000), 15_001), false);
    assert.equal(set.size, 0);
  });
});

describe('parseRevocationEvent', () => {
  it('reads the wire format and refuses malformed events', () => {
    const wire = {
      seq: 3,
      kind: 'session',
      id: 's',
      at: '2025-01-01T00:00:00.000Z',
      until: '2025-01-01T01:00:00.000Z',
    };
    assert.deepEqual(parseRevocationEvent(wire), {
      seq: 3,
      kind: 'session',
      id: 's',
      at: Date.parse(wire.at),
      until: Date.parse(wire.until),
    });
    assert.deepEqual(parseRevocationEvent({ ...wire, kind: 'client' }), { ignoredSeq: 3 });
    for (const broken of [
      null,
      'x',
      { ...wire, seq: '3' },
      { ...wire, seq: 1.5 },
      { ...wire, id: '' },
      { ...wire, at: 'yesterday' },
      { ...wire, until: 5 },
      { ...wire, kind: undefined },
    ]) {
      assert.equal(parseRevocationEvent(broken), null);
    }
  });
});

describe('revocations near the end of a token life', () => {
  it('a revoked token stays refused through the skew after the issuer lets the revocation lapse', async () => {
    const f = await startFixture({ verifier: { clockSkew: 5_000 } });
    try {
      const exp = Math.floor(f.clock.ms / 1000) + 10;
      const token = await f.issuer.sign(f.clock.ms, { exp, jti: 'short' });
      // The issuer keeps a token revocation until its own last accepted moment: exp + 1 s.
      f.issuer.revoke('token', 'short', { at: f.clock.ms, until: (exp + 1) * 1000 });
      await waitFor(async () => (await outcome(f.verifier, token)) === 'token_revoked');
      f.clock.ms = (exp + 3) * 1000; // past the issuer's until, inside this verifier's skew
      f.issuer.heartbeat(); // keep the feed fresh on the manual clock
      await waitFor(() => f.verifier.status().feed?.staleness === 0);
      assert.equal(await outcome(f.verifier, token), 'token_revoked');
    } finally {
      await f.close();
    }
  });
});
