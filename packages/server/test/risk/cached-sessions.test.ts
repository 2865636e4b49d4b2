// Cookie sessions served from a shared cache (Redis in production) carry no IP or user agent. The
// risk checks then read the stored session, unless this process already checked the same context
// for it: one store read per session and context, not one per request.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Session } from '../../src/core/model.js';
import { hashSecret } from '../../src/core/random.js';
import { Revoker } from '../../src/core/revoker.js';
import { RiskEngine } from '../../src/core/risk/risk-engine.js';
import { SessionService } from '../../src/core/sessions.js';
import { maxAccessTtlMs } from '../../src/latchkey.js';
import type { CachedSession, SessionCache } from '../../src/ports/session-cache.js';
import { json, signUp, startTestServer, type TestServer } from '../support/harness.js';
import { AGENTS, cookieLogin, device, suspicious } from '../support/risk.js';

/** The port's contract in memory, keeping what Redis keeps: no IP, no user agent. */
class MemorySessionCache implements SessionCache {
  readonly entries = new Map<string, CachedSession | 'revoked'>();
  lookup(secretHash: string) {
    return Promise.resolve(this.entries.get(secretHash));
  }
  remember(secretHash: string, session: Session) {
    if (!this.entries.has(secretHash)) {
      this.entries.set(secretHash, { ...session, ip: null, userAgent: null });
    }
    return Promise.resolve();
  }
  update(secretHash: string, session: Session) {
    if (this.entries.get(secretHash) !== 'revoked') {
      this.entries.set(secretHash, { ...session, ip: null, userAgent: null });
    }
    return Promise.resolve();
  }
  forget(entries: ReadonlyArray<{ secretHash: string }>) {
    for (const { secretHash } of entries) this.entries.set(secretHash, 'revoked');
    return Promise.resolve();
  }
  ping() {
    return Promise.resolve();
  }
  close() {
    return Promise.resolve();
  }
}

void describe('risk checks on cached cookie sessions', () => {
  let server: TestServer;
  let cache: MemorySessionCache;
  let sessions: SessionService;
  let storeReads = 0;
  before(async () => {
    server = await startTestServer();
    cache = new MemorySessionCache();
    const { storage, revocationHub, revocations, audit, clock, random, config } = server.services;
    // Count the store reads (the risk check's among them); the cache answers every lookup.
    const counted = Object.create(storage) as typeof storage;
    counted.findSessionById = (id: string) => {
      storeReads++;
      return storage.findSessionById(id);
    };
    // Wired as the composition root wires them with Redis: revocations clear the same cache.
    const revoker = new Revoker({
      store: storage,
      hub: revocationHub,
      audit,
      clock,
      maxAccessTtlMs: maxAccessTtlMs(config),
      sessionCache: cache,
    });
    const risk = new RiskEngine({
      store: counted,
      audit,
      revoker,
      clock,
      geo: null,
      config: config.risk,
    });
    sessions = new SessionService({
      store: counted,
      revoker,
      revocations,
      cache,
      risk,
      clock,
      random,
      config,
    });
  });
  after(() => server.close());

  void it('reads the stored session once per context, and still catches a change', async () => {
    const user = await signUp(server);
    const home = device('192.0.2.10');
    const login = await cookieLogin(server, user.email, home);
    const secret = login.cookie.split('=')[1]!;
    const context = { ip: home.ip, userAgent: home.userAgent };

    // First use: from the store (complete), then cached without IP or user agent. This process
    // checked the context on the first use, so the cached uses need no store read at all.
    assert.equal((await sessions.resume(secret, context)).ok, true);
    assert.ok(cache.entries.get(hashSecret(secret)));
    const before = storeReads;
    for (let i = 0; i < 5; i++) assert.equal((await sessions.resume(secret, context)).ok, true);
    assert.equal(storeReads - before, 0);
    // A context this process has not checked: one read of the stored session to compare.
    const sameNetwork = { ip: '192.0.2.11', userAgent: AGENTS.chromeWindowsNext };
    for (let i = 0; i < 3; i++) assert.equal((await sessions.resume(secret, sameNetwork)).ok, true);
    assert.equal(storeReads - before, 0, 'same network and family: the same context key');
    const office = { ip: '198.51.100.10', userAgent: home.userAgent };
    for (let i = 0; i < 3; i++) assert.equal((await sessions.resume(secret, office)).ok, true);
    assert.equal(storeReads - before, 1);
    assert.deepEqual(
      (await suspicious(server, user.id)).map((e) => e.detail['signal']),
      ['network_changed'],
    );

    const stolen = await sessions.resume(secret, { ip: office.ip, userAgent: AGENTS.curl });
    assert.deepEqual(stolen, { ok: false, reason: 'reauthenticate' });
    assert.equal(cache.entries.get(hashSecret(secret)), 'revoked');
    assert.deepEqual(
      (await suspicious(server, user.id)).map((e) => e.detail['signal']),
      ['network_changed', 'user_agent_changed'],
    );
    const sessionId = (json(login.response)['session'] as { id: string }).id;
    assert.notEqual((await server.services.storage.findSessionById(sessionId))?.revokedAt, null);
  });

  void it('compares with the stored context, which an allowed change moved along', async () => {
    const user = await signUp(server);
    const home = device('192.0.2.10');
    const office = device('198.51.100.10');
    const login = await cookieLogin(server, user.email, home);
    const secret = login.cookie.split('=')[1]!;
    assert.equal((await sessions.resume(secret, home)).ok, true);
    for (let i = 0; i < 3; i++) assert.equal((await sessions.resume(secret, office)).ok, true);
    assert.equal((await sessions.resume(secret, home)).ok, true);
    assert.deepEqual(
      (await suspicious(server, user.id)).map((e) => e.detail['network']),
      ['198.51.100.0/24', '192.0.2.0/24'],
    );
  });
});
