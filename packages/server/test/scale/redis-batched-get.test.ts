// Cookie lookups batched per event-loop turn, against a real Redis: the GETs of one turn go out as
// one MGET and each caller gets its own key's value; a lone GET stays a GET; a failure reaches
// every caller of the batch.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { BatchedGet } from '../../src/adapters/redis/batched-get.js';
import {
  deleteRedisKeys,
  randomRedisPrefix,
  redisUnavailable,
  testRedisClient,
} from '../support/redis.js';

const unavailable = await redisUnavailable();
if (unavailable && process.env['CI'] === 'true') throw new Error(`${unavailable} (CI=true)`);

/** Counts the commands BatchedGet sends through `client`. */
function counting(client: Redis): { gets: number; mgets: string[][] } {
  const counts = { gets: 0, mgets: [] as string[][] };
  const get = client.get.bind(client);
  const mget = client.mget.bind(client);
  client.get = (key: string) => {
    counts.gets++;
    return get(key);
  };
  client.mget = ((...keys: string[]) => {
    counts.mgets.push(keys.flat());
    return mget(...keys);
  }) as Redis['mget'];
  return counts;
}

describe('batched Redis GETs', { skip: unavailable ?? false }, () => {
  const prefix = randomRedisPrefix();
  let client: Redis;
  before(async () => {
    client = testRedisClient();
    await client.connect();
    for (let i = 0; i < 5; i++) await client.set(`${prefix}${i}`, `value ${i}`);
  });
  after(async () => {
    client?.disconnect();
    await deleteRedisKeys(prefix);
  });

  it('sends the GETs of one turn as one MGET and answers each with its own value', async () => {
    const counts = counting(client);
    const batched = new BatchedGet(client);
    const keys = [4, 0, 'missing', 2, 2].map((k) => `${prefix}${k}`);
    const values = await Promise.all(keys.map((key) => batched.get(key)));
    assert.deepEqual(values, ['value 4', 'value 0', null, 'value 2', 'value 2']);
    assert.deepEqual(counts.mgets, [keys]);
    assert.equal(counts.gets, 0);

    // The next turn is a new batch; a lone GET goes as a GET.
    assert.equal(await batched.get(`${prefix}1`), 'value 1');
    assert.equal(counts.gets, 1);
    assert.equal(counts.mgets.length, 1);
  });

  it('sees a write issued before the batch goes out', async () => {
    const batched = new BatchedGet(client);
    const read = batched.get(`${prefix}3`);
    await client.set(`${prefix}3`, 'replaced');
    assert.equal(await read, 'replaced');
  });

  it('fails every GET of a batch when Redis cannot answer', async () => {
    const down = testRedisClient('redis://127.0.0.1:1');
    try {
      await down.connect().catch(() => undefined);
      const batched = new BatchedGet(down);
      const outcomes = await Promise.allSettled([batched.get('a'), batched.get('b')]);
      assert.deepEqual(
        outcomes.map((o) => o.status),
        ['rejected', 'rejected'],
      );
    } finally {
      down.disconnect();
    }
  });
});
