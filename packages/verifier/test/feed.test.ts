// Following the revocation feed: catch-up at start, live events on the stream, each kind's
// meaning, resume after a cut connection (the missed revocation arrives, duplicates do no harm),
// polling when the stream keeps failing, paging, and what a broken or silent stream does.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CREDENTIAL, waitFor } from './support/fake-issuer.js';
import { FakeIssuer } from './support/fake-issuer.js';
import { outcome, startFixture } from './support/setup.js';

const HOUR = 3_600_000;

describe('revocation feed: catch-up and live events', () => {
  it('applies revocations published before the verifier started', async () => {
    const issuer = await FakeIssuer.start();
    const now = Date.now();
    issuer.revoke('session', 'session-old', { at: now, until: now + HOUR });
    const f = await startFixture({ issuer });
    try {
      assert.equal(
        await outcome(f.verifier, await issuer.sign(f.clock.ms, { sid: 'session-old' })),
        'token_revoked',
      );
      assert.equal(await outcome(f.verifier, await issuer.sign(f.clock.ms)), 'ok');
      assert.equal(issuer.pageRequests[0], undefined, 'the first page is from the oldest event');
      assert.equal(f.verifier.status().feed?.mode, 'streaming');
    } finally {
      await f.close();
    }
  });

  it('sends the resource-server credential as HTTP Basic', async () => {
    const f = await startFixture();
    try {
      const expected = `Basic ${Buffer.from(`${CREDENTIAL.id}:${CREDENTIAL.secret}`).toString('base64')}`;
      assert.equal(f.issuer.streamRequests[0]?.authorization, expected);
    } finally {
      await f.close();
    }
  });

  it('applies each kind with its meaning: session by sid, token by jti, user by iat before at', async () => {
    const f = await startFixture();
    try {
      const { issuer, clock, verifier } = f;
      const nowSeconds = Math.floor(clock.ms / 1000);
      const inSession = await issuer.sign(clock.ms, { sid: 'session-A', sub: 'u1' });
      const otherSession = await issuer.sign(clock.ms, { sid: 'session-B', sub: 'u1' });
      const byJti = await issuer.sign(clock.ms, { jti: 'jti-1', sid: undefined, sub: 'u2' });
      const sameUserOtherJti = await issuer.sign(clock.ms, {
        jti: 'jti-2',
        sid: undefined,
        sub: 'u2',
      });
      const oldOfUser = await issuer.sign(clock.ms, { sub: 'u3', iat: nowSeconds - 1, sid: 's3' });
      const newOfUser = await issuer.sign(clock.ms, { sub: 'u3', iat: nowSeconds, sid: 's3' });
      for (const token of [
        inSession,
        otherSession,
        byJti,
        sameUserOtherJti,
        oldOfUser,
        newOfUser,
      ]) {
        assert.equal(await outcome(verifier, token), 'ok');
      }

      issuer.revoke('session', 'session-A', { at: clock.ms, until: clock.ms + HOUR });
      issuer.revoke('token', 'jti-1', { at: clock.ms, until: clock.ms + HOUR });
      // The epoch: tokens with iat * 1000 < at are revoked; iat exactly at the epoch is not.
      issuer.revoke('user', 'u3', { at: nowSeconds * 1000, until: clock.ms + HOUR });
      await waitFor(async () => (await outcome(verifier, oldOfUser)) === 'token_revoked');

      assert.equal(await outcome(verifier, inSession), 'token_revoked');
      assert.equal(await outcome(verifier, otherSession), 'ok');
      assert.equal(await outcome(verifier, byJti), 'token_revoked');
      assert.equal(await outcome(verifier, sameUserOtherJti), 'ok');
      assert.equal(await outcome(verifier, newOfUser), 'ok');
    } finally {
      await f.close();
    }
  });

  it('pages through a long backlog with after=cursor', async () => {
    const issuer = await FakeIssuer.start();
    issuer.pageSize = 1000;
    const now = Date.now();
    for (let i = 0; i < 2_500; i++) {
      issuer.revoke('token', `jti-${i}`, { at: now, until: now + HOUR });
    }
    const f = await startFixture({ issuer });
    try {
      assert.deepEqual(issuer.pageRequests.slice(0, 4), [undefined, '1000', '2000', '2500']);
      for (const i of [0, 999, 1000, 2499]) {
        assert.equal(
          await outcome(f.verifier, await issuer.sign(f.clock.ms, { jti: `jti-${i}` })),
          'token_revoked',
        );
      }
      assert.equal(f.verifier.status().revocations, 2_500);
      // The stream was opened before the catch-up, from the oldest event.
      assert.equal(issuer.streamRequests[0]?.lastEventId, undefined);
    } finally {
      await f.close();
    }
  });

  it('ignores lapsed revocations and events of a kind it does not know', async () => {
    const issuer = await FakeIssuer.start();
    const now = Date.now();
    issuer.revoke('session', 'lapsed', { at: now - 2 * HOUR, until: now - HOUR });
    issuer.revoke('client', 'app', { at: now, until: now + HOUR });
    const f = await startFixture({ issuer });
    try {
      assert.equal(f.verifier.status().revocations, 0);
      assert.ok(f.warnings.some((w) => w.includes('unknown kind')));
    } finally {
      await f.close();
    }
  });
});

describe('revocation feed: resume after a cut connection', () => {
  it('resumes with Last-Event-ID and applies the revocation missed meanwhile', async () => {
    const f = await startFixture();
    try {
      const { issuer, clock, verifier } = f;
      issuer.revoke('session', 'before-cut', { at: clock.ms, until: clock.ms + HOUR });
      await waitFor(() => verifier.status().revocations === 1, 3_000, 'first event');
      const victim = await issuer.sign(clock.ms, { sid: 'revoked-while-cut' });
      const bystander = await issuer.sign(clock.ms, { sid: 'still-fine' });
      assert.equal(await outcome(verifier, victim), 'ok');
      const streamsBefore = issuer.streamRequests.length;

      // Cut every connection, and revoke while no stream is open: only a resume can deliver it.
      // Catch-up pages say "nothing new", so the event can only come by the resumed stream.
      issuer.killConnections();
      issuer.pageMode = 'empty';
      issuer.revoke('session', 'revoked-while-cut', { at: clock.ms, until: clock.ms + HOUR });
      assert.equal(issuer.openStreams, 0);

      await waitFor(
        async () => (await outcome(verifier, victim)) === 'token_revoked',
        3_000,
        'resume',
      );
      const resumed = issuer.streamRequests[streamsBefore];
      assert.ok(resumed, 'a new stream request');
      assert.equal(resumed.lastEventId, '1', 'resumed after the last event received');
      assert.deepEqual(resumed.sent, [2], 'the missed event was replayed on the stream');
      assert.equal(await outcome(verifier, bystander), 'ok');
      assert.equal(verifier.status().revocations, 2);
    } finally {
      await f.close();
    }
  });

  it('treats duplicated deliveries as harmless', async () => {
    // Quick successive cuts would otherwise send the follower to polling (see the fallback tests).
    const f = await startFixture({ feed: { streamFailuresBeforePolling: 10 } });
    try {
      const { issuer, clock, verifier } = f;
      const now = clock.ms;
      const nowSeconds = Math.floor(now / 1000);
      issuer.duplicateReplay = true;
      issuer.revoke('session', 's-dup', { at: now, until: now + HOUR });
      issuer.revoke('user', 'u-dup', { at: nowSeconds * 1000, until: now + HOUR });
      issuer.revoke('token', 'j-dup', { at: now, until: now + HOUR });
      await waitFor(() => verifier.status().revocations === 3);
      // Cut and resume from scratch a few times: every event is delivered again, twice.
      for (let i = 0; i < 3; i++) {
        const opened = verifier.status().feed!.streamsOpened;
        issuer.killConnections();
        await waitFor(
          () => verifier.status().feed!.streamsOpened > opened && issuer.openStreams > 0,
        );
      }
      assert.equal(verifier.status().revocations, 3);
      // The user epoch did not move, sessions and tokens other than the named ones are fine.
      assert.equal(
        await outcome(
          verifier,
          await issuer.sign(now, { sub: 'u-dup', iat: nowSeconds, sid: 's2' }),
        ),
        'ok',
      );
      assert.equal(
        await outcome(
          verifier,
          await issuer.sign(now, { sub: 'u-dup', iat: nowSeconds - 1, sid: 's2' }),
        ),
        'token_revoked',
      );
      assert.equal(
        await outcome(verifier, await issuer.sign(now, { sid: 's-dup' })),
        'token_revoked',
      );
      assert.equal(
        await outcome(verifier, await issuer.sign(now, { jti: 'j-dup' })),
        'token_revoked',
      );
      assert.equal(await outcome(verifier, await issuer.sign(now, { sid: 'other' })), 'ok');
    } finally {
      await f.close();
    }
  });

  it('reconnects from the last good cursor after a malformed event', async () => {
    const f = await startFixture();
    try {
      const { issuer, clock, verifier } = f;
      issuer.revoke('token', 'j1', { at: clock.ms, until: clock.ms + HOUR });
      await waitFor(() => verifier.status().revocations === 1);
      const streamsBefore = issuer.streamRequests.length;
      issuer.writeRaw('id: 99\nevent: revocation\ndata: {"seq": "not a number"}\n\n');
      await waitFor(() => issuer.streamRequests.length > streamsBefore, 3_000, 'reconnect');
      assert.equal(issuer.streamRequests[streamsBefore]!.lastEventId, '1');
      assert.ok(f.warnings.some((w) => w.includes('malformed revocation event')));
    } finally {
      await f.close();
    }
  });

  it('reconnects a stream that has gone silent', async () => {
    const f = await startFixture({ feed: { heartbeatTimeout: 150 } });
    try {
      await waitFor(() => f.issuer.streamRequests.length >= 2, 3_000, 'reconnect after silence');
      assert.ok(f.warnings.some((w) => w.includes('nothing received for 150 ms')));
    } finally {
      await f.close();
    }
  });
});

describe('revocation feed: polling fallback', () => {
  it('polls when the stream keeps failing, and still applies revocations', async () => {
    const issuer = await FakeIssuer.start();
    issuer.streamMode = 'refuse';
    const f = await startFixture({
      issuer,
      feed: { streamFailuresBeforePolling: 2, pollInterval: 20 },
    });
    try {
      await waitFor(() => f.verifier.status().feed?.mode === 'polling', 3_000, 'polling mode');
      const token = await issuer.sign(f.clock.ms, { sid: 'polled' });
      assert.equal(await outcome(f.verifier, token), 'ok');
      issuer.revoke('session', 'polled', { at: f.clock.ms, until: f.clock.ms + HOUR });
      await waitFor(async () => (await outcome(f.verifier, token)) === 'token_revoked');
      // Each poll resumes from the cursor of the previous one.
      await waitFor(() => issuer.pageRequests.includes('1'), 3_000, 'a poll after the cursor');
      assert.equal(issuer.streamRequests.length, 2, 'no stream attempts while polling');
    } finally {
      await f.close();
    }
  });

  it('goes back to the stream after the retry interval', async () => {
    const issuer = await FakeIssuer.start();
    issuer.streamMode = 'not_found';
    const f = await startFixture({
      issuer,
      feed: { streamFailuresBeforePolling: 1, streamRetryInterval: 100 },
    });
    try {
      await waitFor(() => f.verifier.status().feed?.mode === 'polling');
      issuer.streamMode = 'ok';
      await waitFor(() => f.verifier.status().feed?.mode === 'streaming', 3_000, 'stream again');
    } finally {
      await f.close();
    }
  });

  it('times out a stream that never answers, and falls back', async () => {
    const issuer = await FakeIssuer.start();
    issuer.streamMode = 'hang';
    const f = await startFixture({
      issuer,
      feed: { streamFailuresBeforePolling: 1 },
      verifier: { requestTimeout: 100 },
    });
    try {
      await waitFor(() => f.verifier.status().feed?.mode === 'polling', 3_000, 'polling');
    } finally {
      await f.close();
    }
  });
});

describe('revocation feed: credentials', () => {
  it('a refused credential keeps the verifier failing closed, and ready() rejects', async () => {
    const f = await startFixture({
      feed: { credential: { id: CREDENTIAL.id, secret: 'wrong-secret' } },
      ready: false,
      verifier: { readyTimeout: 300 },
    });
    try {
      await assert.rejects(f.verifier.ready(), {
        name: 'VerifierError',
        code: 'revocations_unavailable',
      });
      assert.equal(
        await outcome(f.verifier, await f.issuer.sign(f.clock.ms)),
        'revocations_unavailable',
      );
      assert.ok(f.warnings.some((w) => w.includes('401')));
      assert.ok(!f.warnings.some((w) => w.includes('wrong-secret')), 'never logs the secret');
    } finally {
      await f.close();
    }
  });

  it('form-urlencodes credentials that contain ":" or non-ASCII characters (RFC 6749 2.3.1)', async () => {
    const { basicAuthorization } = await import('../src/http.js');
    const header = basicAuthorization('rs:1', 'sécret pass');
    const decoded = Buffer.from(header.slice('Basic '.length), 'base64').toString('utf8');
    assert.equal(decoded, 'rs%3A1:s%C3%A9cret+pass');
  });
});
