// The storage conformance suite: every adapter runs it unchanged. It pins down the behaviour the
// core relies on, above all that refresh rotation is a compare-and-set.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RevokeReason, Session } from '../core/model.js';
import type { NewSession, NewUser, Storage } from './storage.js';

export interface ConformanceOptions {
  /** A fresh, migrated, empty store. */
  readonly open: () => Promise<Storage>;
  /** Called after the suite with the store it opened. */
  readonly cleanup?: (storage: Storage) => Promise<void>;
}

const T0 = Date.UTC(2026, 0, 1);
let counter = 0;
const unique = (prefix: string) => `${prefix}_${process.pid}_${Date.now()}_${++counter}`;

function newUser(overrides: Partial<NewUser> = {}): NewUser {
  const id = unique('usr');
  return {
    id,
    email: `${id}@example.test`,
    passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
    roles: [],
    status: 'active',
    epoch: 0,
    createdAt: T0,
    ...overrides,
  };
}

/** A hybrid session of `userId` as the suite stores them; exported for adapters' own tests. */
export function newSession(userId: string, overrides: Partial<NewSession> = {}): NewSession {
  return {
    id: unique('ses'),
    userId,
    clientId: 'app',
    strategy: 'hybrid',
    secretHash: null,
    createdAt: T0,
    lastSeenAt: T0,
    idleExpiresAt: T0 + 3_600_000,
    expiresAt: T0 + 86_400_000,
    ip: '127.0.0.1',
    userAgent: 'conformance',
    ...overrides,
  };
}

export function runStorageConformance(name: string, options: ConformanceOptions): void {
  describe(`storage conformance: ${name}`, () => {
    let store: Storage;
    before(async () => {
      store = await options.open();
    });
    after(async () => {
      await options.cleanup?.(store);
      await store.close();
    });
    /** Revokes with events that matter for a minute; returns the revoked sessions' IDs. */
    const revoke = async (ids: readonly string[], now: number, reason: RevokeReason = 'logout') =>
      (await store.revokeSessions(ids, now, reason, () => now + 60_000)).map((e) => e.subjectId);

    describe('users', () => {
      it('creates a user and finds it by id and email, without the hash in public reads', async () => {
        const user = newUser({ roles: ['admin'] });
        const created = await store.createUser(user);
        assert.ok(created);
        assert.equal('passwordHash' in created, false);
        const byId = await store.findUserById(user.id);
        assert.deepEqual(byId, created);
        assert.equal('passwordHash' in (byId ?? {}), false);
        const byEmail = await store.findUserByEmail(user.email);
        assert.equal(byEmail?.passwordHash, user.passwordHash);
        assert.deepEqual(byEmail?.roles, ['admin']);
        assert.equal((await store.findUserWithPassword(user.id))?.passwordHash, user.passwordHash);
      });

      it('refuses a second user with the same email', async () => {
        const user = newUser();
        assert.ok(await store.createUser(user));
        assert.equal(await store.createUser(newUser({ email: user.email })), null);
      });

      it('answers null for unknown users', async () => {
        assert.equal(await store.findUserById('usr_missing'), null);
        assert.equal(await store.findUserByEmail('missing@example.test'), null);
      });

      it('lists users in id order with an exclusive cursor and an email filter', async () => {
        const prefix = unique('list');
        const ids = [`${prefix}_a`, `${prefix}_b`, `${prefix}_c`];
        for (const id of ids) await store.createUser(newUser({ id, email: `${id}@example.test` }));
        const first = await store.listUsers({ limit: 2, after: `${prefix}` });
        assert.deepEqual(
          first.map((u) => u.id),
          ids.slice(0, 2),
        );
        const rest = await store.listUsers({ limit: 10, after: ids[1]! });
        assert.equal(rest[0]?.id, ids[2]);
        const filtered = await store.listUsers({ limit: 10, email: `${ids[1]}@example.test` });
        assert.deepEqual(
          filtered.map((u) => u.id),
          [ids[1]],
        );
      });

      it('updates the password hash with the epoch, the status, and only advances the epoch', async () => {
        const user = newUser();
        await store.createUser(user);
        await store.updatePassword(user.id, 'new-hash', 100);
        const updated = await store.findUserWithPassword(user.id);
        assert.equal(updated?.passwordHash, 'new-hash');
        assert.equal(updated?.epoch, 100);
        await store.setStatus(user.id, 'banned', 200);
        assert.equal((await store.findUserById(user.id))?.status, 'banned');
        assert.equal((await store.findUserById(user.id))?.epoch, 200);
        await store.setStatus(user.id, 'active', null);
        assert.equal((await store.findUserById(user.id))?.epoch, 200);
        await store.advanceEpoch(user.id, 150, { at: 150_000, until: T0 + 60_000 });
        assert.equal((await store.findUserById(user.id))?.epoch, 200);
        const event = await store.advanceEpoch(user.id, 300, { at: 300_000, until: T0 + 60_000 });
        assert.equal((await store.findUserById(user.id))?.epoch, 300);
        // Logged with the epoch: what other instances and resource servers learn it from.
        assert.deepEqual(
          { ...event, seq: 0 },
          { seq: 0, kind: 'user', subjectId: user.id, at: 300_000, until: T0 + 60_000 },
        );
        assert.deepEqual(await store.listRevocations({ after: event.seq - 1, limit: 1 }), [event]);
      });
    });

    describe('sessions', () => {
      it('creates and finds sessions by id and secret hash', async () => {
        const user = newUser();
        await store.createUser(user);
        const session = newSession(user.id, { strategy: 'session', secretHash: unique('hash') });
        await store.createSession(session);
        const found = await store.findSessionById(session.id);
        const { secretHash: _hash, ...expected } = session;
        assert.deepEqual(found, { ...expected, revokedAt: null } satisfies Session);
        assert.deepEqual(await store.findSessionBySecretHash(session.secretHash!), found);
        assert.equal(await store.findSessionBySecretHash('unknown'), null);
      });

      it('lists only live sessions, newest first', async () => {
        const user = newUser();
        await store.createUser(user);
        const older = newSession(user.id, { createdAt: T0 });
        const newer = newSession(user.id, { createdAt: T0 + 1000 });
        const idleExpired = newSession(user.id, { idleExpiresAt: T0 + 10 });
        const revoked = newSession(user.id);
        for (const s of [older, newer, idleExpired, revoked]) await store.createSession(s);
        await revoke([revoked.id], T0 + 50);
        const live = await store.listActiveSessions(user.id, T0 + 100);
        assert.deepEqual(
          live.map((s) => s.id),
          [newer.id, older.id],
        );
      });

      it('slides idle expiry but never revives a revoked session', async () => {
        const user = newUser();
        await store.createUser(user);
        const session = newSession(user.id);
        await store.createSession(session);
        await store.touchSession(session.id, T0 + 5, T0 + 7_200_000);
        const touched = await store.findSessionById(session.id);
        assert.equal(touched?.lastSeenAt, T0 + 5);
        assert.equal(touched?.idleExpiresAt, T0 + 7_200_000);
        await revoke([session.id], T0 + 6);
        await store.touchSession(session.id, T0 + 7, T0 + 9_000_000);
        assert.equal((await store.findSessionById(session.id))?.idleExpiresAt, T0 + 7_200_000);
      });

      it('revokes once: returns only sessions it revoked, and their secrets stop matching', async () => {
        const user = newUser();
        await store.createUser(user);
        const a = newSession(user.id, { strategy: 'session', secretHash: unique('hash') });
        const b = newSession(user.id);
        await store.createSession(a);
        await store.createSession(b);
        await store.createRefreshToken({ tokenHash: unique('rt'), sessionId: b.id, createdAt: T0 });
        assert.deepEqual((await revoke([a.id, b.id], T0 + 1)).sort(), [a.id, b.id].sort());
        assert.deepEqual(await revoke([a.id, b.id], T0 + 2), []);
        assert.equal(await store.findSessionBySecretHash(a.secretHash!), null);
        assert.equal((await store.findSessionById(a.id))?.revokedAt, T0 + 1);
        assert.deepEqual(await revoke([], T0), []);
      });

      it('logs an event for each session it revokes, in the same transaction', async () => {
        const user = newUser();
        await store.createUser(user);
        const a = newSession(user.id);
        const b = newSession(user.id);
        await store.createSession(a);
        await store.createSession(b);
        const until = new Map([
          [a.id, T0 + 10_000],
          [b.id, T0 + 20_000],
        ]);
        const events = await store.revokeSessions([a.id, b.id], T0 + 1, 'logout', (id) =>
          until.get(id)!,
        );
        assert.deepEqual(
          events
            .map(({ kind, subjectId, at, until }) => ({ kind, subjectId, at, until }))
            .sort((x, y) => x.until - y.until),
          [
            { kind: 'session', subjectId: a.id, at: T0 + 1, until: T0 + 10_000 },
            { kind: 'session', subjectId: b.id, at: T0 + 1, until: T0 + 20_000 },
          ],
        );
        const cursor = Math.min(...events.map((e) => e.seq)) - 1;
        const logged = await store.listRevocations({ after: cursor, limit: 100_000 });
        for (const event of events)
          assert.deepEqual(
            logged.find((e) => e.seq === event.seq),
            event,
          );
        // Already revoked: no second event.
        const again = await store.revokeSessions([a.id], T0 + 2, 'logout', () => T0 + 30_000);
        assert.deepEqual(again, []);
        const last = events.reduce((x, y) => (x.seq > y.seq ? x : y));
        assert.ok(
          !(await store.listRevocations({ after: last.seq, limit: 100_000 })).some(
            (e) => e.subjectId === a.id,
          ),
        );
      });

      it('revokes nothing when its events cannot be logged', async () => {
        const user = newUser();
        await store.createUser(user);
        const session = newSession(user.id);
        await store.createSession(session);
        await store.createRefreshToken({
          tokenHash: unique('rt'),
          sessionId: session.id,
          createdAt: T0,
        });
        await assert.rejects(
          store.revokeSessions([session.id], T0 + 1, 'logout', () => {
            throw new Error('no event');
          }),
          /no event/,
        );
        assert.equal((await store.findSessionById(session.id))?.revokedAt, null);
        assert.equal((await store.listActiveSessions(user.id, T0 + 2)).length, 1);
      });

      it('finds the secret hashes of cookie sessions only', async () => {
        const user = newUser();
        await store.createUser(user);
        const cookie = newSession(user.id, { strategy: 'session', secretHash: unique('hash') });
        const family = newSession(user.id);
        await store.createSession(cookie);
        await store.createSession(family);
        assert.deepEqual(
          await store.findSessionSecretHashes([cookie.id, family.id, 'ses_unknown']),
          [{ id: cookie.id, secretHash: cookie.secretHash, expiresAt: cookie.expiresAt }],
        );
        assert.deepEqual(await store.findSessionSecretHashes([]), []);
      });

      it('replaces the secret of a live session', async () => {
        const user = newUser();
        await store.createUser(user);
        const session = newSession(user.id, { strategy: 'session', secretHash: unique('old') });
        await store.createSession(session);
        const fresh = unique('new');
        await store.replaceSessionSecret(session.id, fresh);
        assert.equal(await store.findSessionBySecretHash(session.secretHash!), null);
        assert.equal((await store.findSessionBySecretHash(fresh))?.id, session.id);
      });

      it('remembers the latest context of a live session, never of a revoked one', async () => {
        const user = newUser();
        await store.createUser(user);
        const session = newSession(user.id, { ip: '192.0.2.1', userAgent: 'first' });
        await store.createSession(session);
        await store.updateSessionContext(session.id, '198.51.100.7', 'second');
        const moved = await store.findSessionById(session.id);
        assert.equal(moved?.ip, '198.51.100.7');
        assert.equal(moved?.userAgent, 'second');
        assert.equal(moved?.lastSeenAt, session.lastSeenAt);
        await revoke([session.id], T0 + 1);
        await store.updateSessionContext(session.id, '203.0.113.9', 'third');
        assert.equal((await store.findSessionById(session.id))?.ip, '198.51.100.7');
      });
    });

    describe('pending password changes', () => {
      it('flags a user, marks sessions started meanwhile, and a new password clears both', async () => {
        const user = newUser();
        const created = await store.createUser(user);
        assert.equal(created?.passwordChangeRequired, false);
        assert.equal((await store.findUserById(user.id))?.passwordChangeRequired, false);
        const before = newSession(user.id);
        await store.createSession(before);
        await store.requirePasswordChange(user.id);
        assert.equal((await store.findUserById(user.id))?.passwordChangeRequired, true);
        assert.equal((await store.findUserByEmail(user.email))?.passwordChangeRequired, true);
        const during = newSession(user.id, { passwordChangeRequired: true });
        await store.createSession(during);
        assert.equal(await store.isSessionPasswordChangeRequired(before.id), false);
        assert.equal(await store.isSessionPasswordChangeRequired(during.id), true);
        assert.equal(await store.isSessionPasswordChangeRequired('ses_unknown'), false);

        await store.updatePassword(user.id, 'new-hash', 7);
        const changed = await store.findUserWithPassword(user.id);
        assert.equal(changed?.passwordChangeRequired, false);
        assert.equal(changed?.passwordHash, 'new-hash');
        assert.equal(await store.isSessionPasswordChangeRequired(during.id), false);
      });

      it('creates a user with the flag already set when asked', async () => {
        const user = newUser({ passwordChangeRequired: true });
        assert.equal((await store.createUser(user))?.passwordChangeRequired, true);
        assert.equal((await store.findUserById(user.id))?.passwordChangeRequired, true);
      });
    });

    describe('known devices', () => {
      it('tells a known device from a new one, and a user with none yet', async () => {
        const user = newUser();
        await store.createUser(user);
        assert.deepEqual(await store.findKnownDevice(user.id, 'laptop'), {
          known: false,
          anyKnown: false,
        });
        await store.rememberDevice(user.id, 'laptop', T0);
        await store.rememberDevice(user.id, 'laptop', T0 + 1_000);
        assert.deepEqual(await store.findKnownDevice(user.id, 'laptop'), {
          known: true,
          anyKnown: true,
        });
        assert.deepEqual(await store.findKnownDevice(user.id, 'phone'), {
          known: false,
          anyKnown: true,
        });
        const other = newUser();
        await store.createUser(other);
        assert.deepEqual(await store.findKnownDevice(other.id, 'laptop'), {
          known: false,
          anyKnown: false,
        });
      });

      it('forgets devices by their last sighting', async () => {
        const user = newUser();
        await store.createUser(user);
        await store.rememberDevice(user.id, 'laptop', T0 - 10_000);
        await store.rememberDevice(user.id, 'laptop', T0 + 1_000); // seen again: kept
        await store.rememberDevice(user.id, 'phone', T0 - 10_000);
        assert.ok((await store.pruneKnownDevices(T0)) >= 1);
        assert.deepEqual(await store.findKnownDevice(user.id, 'phone'), {
          known: false,
          anyKnown: true,
        });
        assert.deepEqual(await store.findKnownDevice(user.id, 'laptop'), {
          known: true,
          anyKnown: true,
        });
      });
    });

    describe('refresh tokens', () => {
      async function family() {
        const user = newUser();
        await store.createUser(user);
        const session = newSession(user.id);
        await store.createSession(session);
        const tokenHash = unique('rt');
        await store.createRefreshToken({ tokenHash, sessionId: session.id, createdAt: T0 });
        return { session, tokenHash };
      }

      it('stores and finds a token', async () => {
        const { session, tokenHash } = await family();
        assert.deepEqual(await store.findRefreshToken(tokenHash), {
          tokenHash,
          sessionId: session.id,
          createdAt: T0,
          rotatedAt: null,
          successorHash: null,
          successorSealed: null,
        });
        assert.equal(await store.findRefreshToken('unknown'), null);
      });

      it('finds a token with its session in one read, as the two reads would', async () => {
        const { session, tokenHash } = await family();
        await store.rotateRefreshToken({
          presentedHash: tokenHash,
          successor: { tokenHash: unique('rt'), sealed: 'sealed-value' },
          now: T0 + 10,
          idleExpiresAt: T0 + 20,
        });
        assert.deepEqual(await store.findRefreshTokenWithSession(tokenHash), {
          token: await store.findRefreshToken(tokenHash),
          session: await store.findSessionById(session.id),
        });
        assert.equal(await store.findRefreshTokenWithSession('unknown'), null);
      });

      it('rotates once: records the successor and slides the session', async () => {
        const { session, tokenHash } = await family();
        const successor = { tokenHash: unique('rt'), sealed: 'sealed-value' };
        const outcome = await store.rotateRefreshToken({
          presentedHash: tokenHash,
          successor,
          now: T0 + 10,
          idleExpiresAt: T0 + 999_999,
        });
        assert.equal(outcome, 'rotated');
        const parent = await store.findRefreshToken(tokenHash);
        assert.equal(parent?.rotatedAt, T0 + 10);
        assert.equal(parent?.successorHash, successor.tokenHash);
        assert.equal(parent?.successorSealed, 'sealed-value');
        const child = await store.findRefreshToken(successor.tokenHash);
        assert.equal(child?.sessionId, session.id);
        assert.equal(child?.rotatedAt, null);
        const slid = await store.findSessionById(session.id);
        assert.equal(slid?.idleExpiresAt, T0 + 999_999);
        assert.equal(slid?.lastSeenAt, T0 + 10);
      });

      it('changes nothing when the token was already rotated or is unknown', async () => {
        const { session, tokenHash } = await family();
        const rotate = (presentedHash: string, now: number) =>
          store.rotateRefreshToken({
            presentedHash,
            successor: { tokenHash: unique('rt'), sealed: 'x' },
            now,
            idleExpiresAt: now + 100,
          });
        assert.equal(await rotate(tokenHash, T0 + 10), 'rotated');
        const before = await store.findSessionById(session.id);
        assert.equal(await rotate(tokenHash, T0 + 50), 'already_rotated');
        assert.equal(await rotate(unique('rt'), T0 + 60), 'already_rotated');
        assert.deepEqual(await store.findSessionById(session.id), before);
        assert.equal(before?.lastSeenAt, T0 + 10);
      });

      it('gives one token at most one successor under concurrent rotations', async () => {
        const { tokenHash } = await family();
        const attempts = Array.from({ length: 20 }, () => ({
          tokenHash: unique('rt'),
          sealed: 'x',
        }));
        const outcomes = await Promise.all(
          attempts.map((successor) =>
            store.rotateRefreshToken({
              presentedHash: tokenHash,
              successor,
              now: T0,
              idleExpiresAt: T0 + 1,
            }),
          ),
        );
        assert.equal(outcomes.filter((o) => o === 'rotated').length, 1);
        const winner = attempts[outcomes.indexOf('rotated')]!;
        assert.equal((await store.findRefreshToken(tokenHash))?.successorHash, winner.tokenHash);
        const losers = attempts.filter((a) => a !== winner);
        for (const loser of losers)
          assert.equal(await store.findRefreshToken(loser.tokenHash), null);
      });

      it('fails a rotation alone: concurrent rotations of other families still land', async () => {
        const families = await Promise.all([family(), family(), family()]);
        const taken = families[2].tokenHash;
        const outcomes = await Promise.allSettled(
          families.map(({ tokenHash }, i) =>
            store.rotateRefreshToken({
              presentedHash: tokenHash,
              // The middle one's successor hash is already a stored token: its insert must fail.
              successor: { tokenHash: i === 1 ? taken : unique('rt'), sealed: 'x' },
              now: T0 + 5,
              idleExpiresAt: T0 + 6,
            }),
          ),
        );
        assert.deepEqual(
          outcomes.map((o) => o.status),
          ['fulfilled', 'rejected', 'fulfilled'],
        );
        assert.equal((await store.findRefreshToken(families[0].tokenHash))?.rotatedAt, T0 + 5);
        assert.equal((await store.findRefreshToken(families[1].tokenHash))?.rotatedAt, null);
      });

      it('writes the audit event with a winning rotation only', async () => {
        const { session, tokenHash } = await family();
        const audit = (ip: string) => ({
          type: 'token_refreshed' as const,
          at: T0 + 5,
          userId: session.userId,
          sessionId: session.id,
          clientId: session.clientId,
          ip,
          userAgent: 'conformance',
          detail: {},
        });
        const rotate = (ip: string) =>
          store.rotateRefreshToken({
            presentedHash: tokenHash,
            successor: { tokenHash: unique('rt'), sealed: 'x' },
            now: T0 + 5,
            idleExpiresAt: T0 + 6,
            audit: audit(ip),
          });
        const racers = ['192.0.2.1', '192.0.2.2'];
        const outcomes = await Promise.all(racers.map(rotate));
        assert.deepEqual([...outcomes].sort(), ['already_rotated', 'rotated']);
        assert.equal(await rotate('192.0.2.3'), 'already_rotated');
        const events = await store.listAudit({ userId: session.userId, limit: 10 });
        assert.deepEqual(
          events.map((e) => [e.type, e.sessionId, e.ip]),
          [['token_refreshed', session.id, racers[outcomes.indexOf('rotated')]]],
        );
      });

      it('deletes a family with its session', async () => {
        const { session, tokenHash } = await family();
        await revoke([session.id], T0, 'refresh_token_reused');
        assert.equal(await store.findRefreshToken(tokenHash), null);
      });
    });

    describe('revocation log', () => {
      it('appends with increasing sequence numbers and pages after a cursor', async () => {
        const start = (await store.listRevocations({ after: 0, limit: 100_000 })).at(-1)?.seq ?? 0;
        const a = await store.appendRevocation({
          kind: 'session',
          subjectId: unique('s'),
          at: T0,
          until: T0 + 10,
        });
        const b = await store.appendRevocation({
          kind: 'user',
          subjectId: unique('u'),
          at: T0,
          until: T0 + 20,
        });
        const c = await store.appendRevocation({
          kind: 'token',
          subjectId: unique('j'),
          at: T0,
          until: T0 + 30,
        });
        assert.ok(a.seq > start && b.seq > a.seq && c.seq > b.seq);
        assert.deepEqual(await store.listRevocations({ after: a.seq, limit: 1 }), [b]);
        assert.deepEqual(await store.listRevocations({ after: a.seq, limit: 10 }), [b, c]);
      });

      it('lists live events and prunes the ones whose until has passed', async () => {
        const old = await store.appendRevocation({
          kind: 'token',
          subjectId: unique('j'),
          at: T0,
          until: T0 - 1,
        });
        const live = await store.appendRevocation({
          kind: 'token',
          subjectId: unique('j'),
          at: T0,
          until: T0 + 60_000,
        });
        const seen = (await store.listLiveRevocations(T0)).map((e) => e.seq);
        assert.ok(seen.includes(live.seq));
        assert.ok(!seen.includes(old.seq));
        assert.ok((await store.pruneRevocations(T0)) >= 1);
        const all = (await store.listRevocations({ after: 0, limit: 100_000 })).map((e) => e.seq);
        assert.ok(!all.includes(old.seq));
        assert.ok(all.includes(live.seq));
      });
    });

    describe('audit', () => {
      it('appends events and lists them newest first, filtered and paged', async () => {
        const userId = unique('usr');
        await store.appendAudit({
          type: 'signup',
          at: T0,
          userId,
          sessionId: null,
          clientId: null,
          ip: '::1',
          userAgent: 'ua',
          detail: {},
        });
        await store.appendAudit({
          type: 'login_failed',
          at: T0 + 1,
          userId,
          sessionId: null,
          clientId: 'app',
          ip: null,
          userAgent: null,
          detail: { reason: 'invalid_credentials' },
        });
        await store.appendAudit({
          type: 'login_succeeded',
          at: T0 + 2,
          userId,
          sessionId: 's',
          clientId: 'app',
          ip: null,
          userAgent: null,
          detail: {},
        });
        const all = await store.listAudit({ userId, limit: 10 });
        assert.deepEqual(
          all.map((e) => e.type),
          ['login_succeeded', 'login_failed', 'signup'],
        );
        assert.deepEqual(all[1]?.detail, { reason: 'invalid_credentials' });
        assert.equal(all[2]?.ip, '::1');
        const failed = await store.listAudit({ userId, type: 'login_failed', limit: 10 });
        assert.equal(failed.length, 1);
        const page = await store.listAudit({ userId, limit: 1, before: all[0]!.id });
        assert.equal(page[0]?.type, 'login_failed');
      });
    });

    it('prunes audit events older than the retention horizon', async () => {
      const userId = unique('usr');
      const base = {
        userId,
        sessionId: null,
        clientId: null,
        ip: null,
        userAgent: null,
        detail: {},
      };
      await store.appendAudit({ ...base, type: 'signup', at: T0 - 10_000 });
      await store.appendAudit({ ...base, type: 'login_succeeded', at: T0 });
      assert.ok((await store.pruneAudit(T0 - 1)) >= 1);
      assert.deepEqual(
        (await store.listAudit({ userId, limit: 10 })).map((e) => e.type),
        ['login_succeeded'],
      );
    });

    describe('signing keys', () => {
      it('adds a key, retiring the current one, and deletes keys', async () => {
        const first = {
          kid: unique('k'),
          alg: 'EdDSA',
          publicJwk: '{}',
          privateJwk: '{"d":"x"}',
          createdAt: T0,
          retiredAt: null,
        };
        const second = { ...first, kid: unique('k'), createdAt: T0 + 1 };
        await store.addSigningKey(first, T0);
        await store.addSigningKey(second, T0 + 1);
        const keys = await store.listSigningKeys();
        assert.equal(keys.find((k) => k.kid === first.kid)?.retiredAt, T0 + 1);
        assert.equal(keys.find((k) => k.kid === second.kid)?.retiredAt, null);
        assert.equal(keys.filter((k) => k.retiredAt === null).length, 1);
        await store.deleteSigningKeys([first.kid]);
        assert.equal(
          (await store.listSigningKeys()).some((k) => k.kid === first.kid),
          false,
        );
      });
    });

    describe('throttles', () => {
      it('counts consecutive failures atomically and starts again after a quiet period', async () => {
        const key = unique('throttle');
        const counts = await Promise.all(
          Array.from({ length: 10 }, () => store.recordFailure(key, T0, 60_000)),
        );
        assert.deepEqual(
          [...counts].sort((a, b) => a - b),
          [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        );
        assert.equal(await store.recordFailure(key, T0 + 60_001, 60_000), 1);
      });

      it('blocks until a time, never shortens a block, and clears', async () => {
        const a = unique('throttle');
        const b = unique('throttle');
        await store.recordFailure(a, T0, 60_000);
        await store.recordFailure(b, T0, 60_000);
        await store.block(a, T0 + 5_000);
        await store.block(a, T0 + 1_000);
        await store.block(b, T0 + 9_000);
        assert.equal(await store.blockedUntil([a], T0), T0 + 5_000);
        assert.equal(await store.blockedUntil([a, b], T0), T0 + 9_000);
        assert.equal(await store.blockedUntil([a], T0 + 5_000), 0);
        assert.equal(await store.blockedUntil([unique('none')], T0), 0);
        await store.clear(b);
        assert.equal(await store.blockedUntil([b], T0), 0);
        assert.equal(await store.recordFailure(b, T0, 60_000), 1);
      });
    });

    it('answers a ping', async () => {
      await store.ping();
    });
  });
}
