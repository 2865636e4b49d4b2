// Behaviour while the feed is down: failing closed after maxStaleness (default), failing open when
// asked to, before the first catch-up, and recovery. Time is the injected clock, never a sleep.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeIssuer, waitFor } from './support/fake-issuer.js';
import { outcome, startFixture, type Fixture } from './support/setup.js';

const HOUR = 3_600_000;

/** Cuts the feed and keeps it down (stream and pages refused). */
async function cutFeed(f: Fixture): Promise<void> {
  f.issuer.streamMode = 'refuse';
  f.issuer.pageMode = 'refuse';
  f.issuer.killConnections();
  await waitFor(() => f.verifier.status().feed?.mode !== 'streaming', 3_000, 'disconnect');
}

function restoreFeed(f: Fixture): void {
  f.issuer.streamMode = 'ok';
  f.issuer.pageMode = 'ok';
}

describe('staleness: failOpen false (default)', () => {
  it('keeps verifying up to maxStaleness after the feed is cut, then fails closed until it is back', async () => {
    const f = await startFixture({ verifier: { maxStaleness: 30_000 } });
    try {
      const token = await f.issuer.sign(f.clock.ms, { exp: Math.floor(f.clock.ms / 1000) + 3600 });
      assert.equal(await outcome(f.verifier, token), 'ok');
      await cutFeed(f);

      f.clock.advance(30_000);
      assert.equal(await outcome(f.verifier, token), 'ok');
      assert.equal(f.verifier.status().feed?.failingClosed, false);
      f.clock.advance(1);
      assert.equal(await outcome(f.verifier, token), 'revocations_unavailable');
      assert.equal(f.verifier.status().feed?.failingClosed, true);
      // Any token, new or old, cached or not: nobody can tell whether it was revoked.
      const fresh = await f.issuer.sign(f.clock.ms);
      assert.equal(await outcome(f.verifier, fresh), 'revocations_unavailable');

      restoreFeed(f);
      await waitFor(async () => (await outcome(f.verifier, token)) === 'ok', 3_000, 'recovery');
      assert.equal(await outcome(f.verifier, fresh), 'ok');
      // Back by the stream, or by polling if the cut lasted long enough to fall back to it.
      assert.ok(['streaming', 'polling'].includes(f.verifier.status().feed!.mode));
      assert.equal(f.verifier.status().feed?.failingClosed, false);
    } finally {
      await f.close();
    }
  });

  it('counts an open stream that has gone silent as stale, and a heartbeat as fresh again', async () => {
    const f = await startFixture({ verifier: { maxStaleness: 30_000 } });
    try {
      const token = await f.issuer.sign(f.clock.ms, { exp: Math.floor(f.clock.ms / 1000) + 3600 });
      f.clock.advance(30_001);
      assert.equal(f.issuer.openStreams, 1);
      assert.equal(await outcome(f.verifier, token), 'revocations_unavailable');
      f.issuer.heartbeat();
      await waitFor(async () => (await outcome(f.verifier, token)) === 'ok', 3_000, 'heartbeat');
    } finally {
      await f.close();
    }
  });

  it('still refuses tokens it knows are revoked, with token_revoked', async () => {
    const f = await startFixture();
    try {
      const token = await f.issuer.sign(f.clock.ms, { sid: 'gone' });
      f.issuer.revoke('session', 'gone', { at: f.clock.ms, until: f.clock.ms + HOUR });
      await waitFor(async () => (await outcome(f.verifier, token)) === 'token_revoked');
      await cutFeed(f);
      f.clock.advance(60_000);
      assert.equal(await outcome(f.verifier, token), 'token_revoked');
    } finally {
      await f.close();
    }
  });

  it('fails closed before the first catch-up', async () => {
    const issuer = await FakeIssuer.start();
    issuer.streamMode = 'refuse';
    issuer.pageMode = 'refuse';
    const f = await startFixture({ issuer, ready: false });
    try {
      await waitFor(() => f.verifier.status().keys > 0);
      const token = await issuer.sign(f.clock.ms);
      const result = await f.verifier.verify(token);
      assert.ok(!result.ok);
      assert.equal(result.error.code, 'revocations_unavailable');
      assert.match(result.error.message, /not caught up/);
      assert.equal(f.verifier.status().feed?.staleness, null);
    } finally {
      await f.close();
    }
  });

  it('stays fresh while polling more often than maxStaleness', async () => {
    const issuer = await FakeIssuer.start();
    issuer.streamMode = 'refuse';
    const f = await startFixture({
      issuer,
      feed: { streamFailuresBeforePolling: 1, pollInterval: 20 },
      verifier: { maxStaleness: 1_000 },
    });
    try {
      const token = await issuer.sign(f.clock.ms, { exp: Math.floor(f.clock.ms / 1000) + 3600 });
      for (let i = 0; i < 3; i++) {
        f.clock.advance(900);
        const polls = issuer.pageRequests.length;
        await waitFor(() => issuer.pageRequests.length > polls + 1, 3_000, 'next poll');
        assert.equal(await outcome(f.verifier, token), 'ok');
      }
    } finally {
      await f.close();
    }
  });
});

describe('staleness: failOpen true', () => {
  it('keeps accepting tokens while the feed is down, still refusing known revocations', async () => {
    const f = await startFixture({ verifier: { failOpen: true, maxStaleness: 30_000 } });
    try {
      const good = await f.issuer.sign(f.clock.ms, { exp: Math.floor(f.clock.ms / 1000) + 3600 });
      const revoked = await f.issuer.sign(f.clock.ms, { jti: 'known-revoked' });
      f.issuer.revoke('token', 'known-revoked', { at: f.clock.ms, until: f.clock.ms + HOUR });
      await waitFor(async () => (await outcome(f.verifier, revoked)) === 'token_revoked');
      await cutFeed(f);
      f.clock.advance(10 * 60_000);
      assert.equal(await outcome(f.verifier, good), 'ok');
      assert.equal(await outcome(f.verifier, revoked), 'token_revoked');
      assert.equal(f.verifier.status().feed?.failingClosed, false);
    } finally {
      await f.close();
    }
  });

  it('accepts tokens before the first catch-up', async () => {
    const issuer = await FakeIssuer.start();
    issuer.streamMode = 'refuse';
    issuer.pageMode = 'refuse';
    const f = await startFixture({ issuer, ready: false, verifier: { failOpen: true } });
    try {
      assert.equal(await outcome(f.verifier, await issuer.sign(f.clock.ms)), 'ok');
    } finally {
      await f.close();
    }
  });
});

describe('staleness: without a feed', () => {
  it('never fails closed (revocation is then not observed at all)', async () => {
    const f = await startFixture({ feed: false });
    try {
      const token = await f.issuer.sign(f.clock.ms, { exp: Math.floor(f.clock.ms / 1000) + 3600 });
      f.clock.advance(10 * 60_000);
      assert.equal(await outcome(f.verifier, token), 'ok');
      assert.equal(f.verifier.status().feed, null);
    } finally {
      await f.close();
    }
  });
});

describe('lifecycle', () => {
  it('close() rejects a pending ready() and stops the feed and every timer', async () => {
    const issuer = await FakeIssuer.start();
    issuer.jwksMode = 'hang';
    issuer.pageMode = 'hang';
    const f = await startFixture({ issuer, ready: false, verifier: { readyTimeout: 60_000 } });
    const ready = f.verifier.ready();
    await f.close();
    await assert.rejects(ready, { name: 'VerifierError', code: 'keys_unavailable' });
    assert.equal(f.verifier.status().feed?.mode, 'closed');
  });
});
