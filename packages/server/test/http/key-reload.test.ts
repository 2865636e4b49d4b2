// Two instances on one database: a key rotated by one is accepted by the other at once, because
// an unknown key ID makes the other look again (at most once a second).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openSqliteStorage } from '../../src/adapters/sql/sqlite.js';
import { validateConfig } from '../../src/config/load.js';
import { ManualClock } from '../../src/core/clock.js';
import { createServices } from '../../src/latchkey.js';
import { PASSWORD } from '../support/harness.js';

describe('signing keys across instances', () => {
  it('accepts a token signed with a key another instance just rotated to', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-keys-'));
    const config = validateConfig(
      { dataDir, logLevel: 'silent', keys: { reloadInterval: '1h' } },
      {},
    );
    const clock = new ManualClock(Math.floor(Date.now() / 1000) * 1000);
    const a = await createServices(config, {
      clock,
      storage: await openSqliteStorage({ dataDir }),
    });
    const b = await createServices(config, {
      clock,
      storage: await openSqliteStorage({ dataDir }),
    });
    try {
      const signedUp = await a.accounts.signUp('keys@example.test', PASSWORD, {
        ip: null,
        userAgent: null,
      });
      assert.ok(signedUp.ok);
      const api = a.clients.get('api')!;
      const before = await a.accessTokens.issue(signedUp.user, api);
      assert.ok(await b.accessTokens.verify(before.token));

      await a.keys.rotate();
      const after = await a.accessTokens.issue(signedUp.user, api);
      assert.notEqual(after.token.split('.')[0], before.token.split('.')[0]);
      // B has not reloaded (the interval is an hour) and still accepts both.
      assert.ok(await b.accessTokens.verify(after.token), 'new key found by looking again');
      assert.ok(await b.accessTokens.verify(before.token), 'old key still published');
    } finally {
      await a.close();
      await b.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('keeps private keys encrypted in storage when keys.encryptionSecret is set', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-keys-'));
    const secret = 'the key-encryption secret, 32 bytes or more';
    const open = (encryptionSecret: string | null) =>
      validateConfig({ dataDir, logLevel: 'silent', keys: { encryptionSecret } }, {});
    const clock = new ManualClock(Math.floor(Date.now() / 1000) * 1000);
    const start = async (encryptionSecret: string | null) =>
      createServices(open(encryptionSecret), {
        clock,
        storage: await openSqliteStorage({ dataDir }),
      });
    const stored = async () => {
      const storage = await openSqliteStorage({ dataDir });
      try {
        return await storage.listSigningKeys();
      } finally {
        await storage.close();
      }
    };
    try {
      // A key created without the secret is plain; the first start with it signs with a sealed
      // key instead, and the plain one is only retired.
      const plain = await start(null);
      const signedUp = await plain.accounts.signUp('sealed@example.test', PASSWORD, {
        ip: null,
        userAgent: null,
      });
      assert.ok(signedUp.ok);
      const api = plain.clients.get('api')!;
      const before = await plain.accessTokens.issue(signedUp.user, api);
      await plain.close();

      const sealed = await start(secret);
      const records = await stored();
      const current = records.find((r) => r.retiredAt === null)!;
      assert.match(current.privateJwk, /^lk-sealed-v1\./);
      assert.doesNotMatch(current.privateJwk, /"d"/);
      assert.equal(records.filter((r) => r.retiredAt !== null).length, 1);
      const after = await sealed.accessTokens.issue(signedUp.user, api);
      assert.ok(await sealed.accessTokens.verify(after.token), 'signs with the sealed key');
      assert.ok(await sealed.accessTokens.verify(before.token), 'the retired key still verifies');
      await sealed.keys.rotate();
      assert.ok(
        (await stored())
          .filter((r) => r.retiredAt === null)[0]!
          .privateJwk.startsWith('lk-sealed-v1.'),
      );
      await sealed.close();

      // Without the secret, or with another one, an instance refuses to start.
      await assert.rejects(start(null), /is encrypted: set keys\.encryptionSecret/);
      await assert.rejects(
        start(`${secret}, but another`),
        /does not open with keys\.encryptionSecret/,
      );
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
