import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { pbkdf2, pbkdf2Sync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, describe, it } from 'node:test';
import { threadId as mainThreadId } from 'node:worker_threads';
import { createArgon2Hasher } from '../../src/core/passwords/hasher.js';
import type { HashJobSample, PasswordHasher } from '../../src/core/passwords/hasher.js';
import type { Argon2Parameters } from '../../src/config/types.js';

const params: Argon2Parameters = { memoryCost: 19456, timeCost: 2, parallelism: 1 };
const PHC = /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/;
const PASSWORD = 'glimmer tundra 47 oxbow saffron';

const hashers: PasswordHasher[] = [];
function createHasher(
  concurrency = 2,
  onJob?: (sample: HashJobSample) => void,
  overrides: Partial<Argon2Parameters> = {},
): PasswordHasher {
  const hasher = createArgon2Hasher({
    params: { ...params, ...overrides },
    concurrency,
    ...(onJob === undefined ? {} : { onJob }),
  });
  hashers.push(hasher);
  return hasher;
}
after(async () => {
  await Promise.all(hashers.map((hasher) => hasher.close()));
});

describe('argon2 hasher', () => {
  const hasher = createHasher();

  it('produces an argon2id PHC string with the configured parameters and a fresh salt', async () => {
    const [first, second] = await Promise.all([hasher.hash(PASSWORD), hasher.hash(PASSWORD)]);
    assert.match(first, PHC);
    assert.match(second, PHC);
    assert.notEqual(first, second);
  });

  it('verifies the right password and refuses a wrong one', async () => {
    const hash = await hasher.hash(PASSWORD);
    assert.equal(await hasher.verify(hash, PASSWORD), true);
    assert.equal(await hasher.verify(hash, `${PASSWORD} `), false);
    assert.equal(await hasher.verify(hash, ''), false);
  });

  it('hashes the code points it is given: normalising is the caller’s job', async () => {
    const hash = await hasher.hash('ｐａｓｓｗｏｒｄ ｗｉｄｅ');
    assert.equal(await hasher.verify(hash, 'password wide'), false);
  });

  it('resolves false for a malformed hash', async () => {
    const valid = await hasher.hash(PASSWORD);
    const malformed = [
      '',
      'not a hash',
      '$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy',
      '$argon2id$v=19$m=19456,t=2,p=1$',
      valid.slice(0, -10),
      valid.replace('$argon2id$', '$argon2xx$'),
      valid.replace('m=19456', 'm=1'),
    ];
    for (const hash of malformed) {
      assert.equal(await hasher.verify(hash, PASSWORD), false, JSON.stringify(hash));
    }
  });

  it('refuses, without computing it, a stored hash that asks for absurd memory', async () => {
    const valid = await hasher.hash(PASSWORD);
    const hostile = valid.replace('m=19456', 'm=4294967295');
    await assert.rejects(hasher.verify(hostile, PASSWORD), /over this server's limit/);
    // The worker survived: the limit is checked before any allocation.
    assert.equal(await hasher.verify(valid, PASSWORD), true);
  });

  it('verifies hashes made with other costs and flags them for rehashing', async () => {
    const older = await createHasher(1, undefined, { timeCost: 3 }).hash(PASSWORD);
    assert.equal(await hasher.verify(older, PASSWORD), true);
    assert.equal(hasher.needsRehash(older), true);
    assert.equal(hasher.needsRehash(await hasher.hash(PASSWORD)), false);
    assert.equal(hasher.needsRehash('not a hash'), true);
  });

  it('verifyDummy always resolves false', async () => {
    for (const password of [PASSWORD, '', 'a'.repeat(128)]) {
      assert.equal(await hasher.verifyDummy(password), false);
    }
  });

  it('refuses invalid parameters at construction', () => {
    const bad: Partial<Argon2Parameters>[] = [
      { memoryCost: 0 },
      { timeCost: 0 },
      { parallelism: 0 },
      { parallelism: 256 },
      { memoryCost: 7, parallelism: 1 },
      { timeCost: 1.5 },
    ];
    for (const overrides of bad) {
      assert.throws(() => createHasher(1, undefined, overrides), RangeError);
    }
    assert.throws(() => createHasher(0), RangeError);
  });
});

describe('argon2 hasher threading', () => {
  it('runs 8 concurrent hashes on exactly `concurrency` worker threads', async () => {
    const samples: HashJobSample[] = [];
    const hasher = createHasher(2, (sample) => samples.push(sample));
    const hashes = await Promise.all(
      Array.from({ length: 8 }, (_, i) => hasher.hash(`${PASSWORD} ${i}`)),
    );
    for (const hash of hashes) assert.match(hash, PHC);
    const verified = await Promise.all(hashes.map((h, i) => hasher.verify(h, `${PASSWORD} ${i}`)));
    assert.deepEqual(verified, Array(8).fill(true));

    const hashSamples = samples.filter((s) => s.operation === 'hash');
    assert.equal(hashSamples.length, 8 + 1, 'eight hashes and the dummy hash');
    const threads = new Set(samples.map((s) => s.threadId));
    assert.equal(threads.size, 2);
    assert.ok(!threads.has(mainThreadId), 'no hash ran on the main thread');
    assert.ok(
      hashSamples.some((s) => s.waitMs > 0),
      'hashes beyond the pool size waited in the queue',
    );
  });

  it('computes the dummy hash once, off the main thread', async () => {
    const samples: HashJobSample[] = [];
    const hasher = createHasher(1, (sample) => samples.push(sample));
    await hasher.verifyDummy(PASSWORD);
    await hasher.verifyDummy(PASSWORD);
    assert.deepEqual(
      samples.map((s) => s.operation),
      ['hash', 'verify', 'verify'],
    );
    assert.ok(samples.every((s) => s.threadId !== mainThreadId));
  });

  it('does not wait for libuv’s thread pool', async () => {
    const hasher = createHasher(1);
    // Start the worker first: loading its modules does go through libuv's file I/O.
    await hasher.hash(PASSWORD);

    // Occupy every libuv thread with a pbkdf2 job of about half a second (on one core).
    const start = performance.now();
    pbkdf2Sync('x', 'salt', 20_000, 32, 'sha512');
    const perIteration = (performance.now() - start) / 20_000;
    const iterations = Math.max(20_000, Math.round(500 / perIteration));
    const threads = Number(process.env['UV_THREADPOOL_SIZE'] ?? 4);
    let busyDone = 0;
    const busy = Array.from(
      { length: threads },
      () =>
        new Promise<void>((resolve, reject) => {
          pbkdf2('x', 'salt', iterations, 32, 'sha512', (error) => {
            busyDone += 1;
            if (error === null) resolve();
            else reject(error);
          });
        }),
    );

    const hash = await hasher.hash(PASSWORD);
    assert.equal(await hasher.verify(hash, PASSWORD), true);
    assert.equal(busyDone, 0, 'hashing finished while libuv’s pool was still saturated');
    await Promise.all(busy);
  });

  it('lets the process exit with idle workers and no close()', () => {
    const hasherModule = new URL('../../src/core/passwords/hasher.js', import.meta.url).href;
    const script = `
      import { createArgon2Hasher } from ${JSON.stringify(hasherModule)};
      const hasher = createArgon2Hasher({ params: ${JSON.stringify(params)}, concurrency: 2 });
      const hash = await hasher.hash('x');
      console.log(await hasher.verify(hash, 'x'));
    `;
    // A file rather than --eval: workers inherit execArgv, and --input-type breaks them.
    const directory = mkdtempSync(join(tmpdir(), 'latchkey-hasher-'));
    const file = join(directory, 'hash-once.mjs');
    writeFileSync(file, script);
    const child = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 20_000 });
    rmSync(directory, { recursive: true, force: true });
    assert.equal(child.signal, null, 'the child had to be killed: a worker kept it alive');
    assert.equal(child.status, 0, child.stderr);
    assert.equal(child.stdout.trim(), 'true');
  });

  it('rejects every job once closed', async () => {
    const hasher = createHasher(1);
    const pending = assert.rejects(hasher.hash(PASSWORD), /closed/);
    await hasher.close();
    await pending;
    await assert.rejects(hasher.hash(PASSWORD), /closed/);
    await assert.rejects(hasher.verifyDummy(PASSWORD), /closed/);
  });
});
