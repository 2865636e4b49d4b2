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
});
