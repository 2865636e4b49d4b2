// The pooled CSPRNG hands every byte out once and never rewrites bytes it has handed out.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PooledRandom } from '../../src/core/random.js';

void describe('PooledRandom', () => {
  void it('gives the lengths asked for, never the same bytes twice', () => {
    const random = new PooledRandom();
    const seen = new Set<string>();
    // Several batches' worth, in sizes that do not divide the batch evenly.
    for (let i = 0; i < 2000; i++) {
      const bytes = random.bytes(i % 2 ? 32 : 12);
      assert.equal(bytes.length, i % 2 ? 32 : 12);
      const hex = Buffer.from(bytes).toString('hex');
      assert.equal(seen.has(hex), false);
      seen.add(hex);
    }
  });

  void it('leaves earlier values untouched when it draws a new batch', () => {
    const random = new PooledRandom();
    const first = random.bytes(16);
    const copy = Buffer.from(first);
    for (let i = 0; i < 1000; i++) random.bytes(16); // several new batches
    assert.deepEqual(Buffer.from(first), copy);
  });

  void it('serves requests larger than a batch on their own', () => {
    const random = new PooledRandom();
    const large = random.bytes(10_000);
    assert.equal(large.length, 10_000);
    // Not all zero: it was filled.
    assert.ok(large.some((byte) => byte !== 0));
  });
});
