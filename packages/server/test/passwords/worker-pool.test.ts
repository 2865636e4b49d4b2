import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { threadId as mainThreadId } from 'node:worker_threads';
import { createWorkerPool } from '../../src/core/passwords/worker-pool.js';
import type { WorkerPool } from '../../src/core/passwords/worker-pool.js';

// A data: URL worker keeps the test double out of the compiled tree, where the test runner
// would take it for a test file. It can import the pool only by absolute URL.
const poolModule = new URL('../../src/core/passwords/worker-pool.js', import.meta.url).href;
const testWorker = new URL(
  `data:text/javascript,${encodeURIComponent(`
    import { serveWorkerRequests } from ${JSON.stringify(poolModule)};
    let handled = 0;
    serveWorkerRequests((request) => {
      if (request === 'exit') process.exit(7);
      if (request === 'throw') throw new Error('handler refused');
      if (request.startsWith('busy:')) {
        const until = Date.now() + Number(request.slice(5));
        while (Date.now() < until);
      }
      return handled++;
    });
  `)}`,
);

const pools: WorkerPool<string, number>[] = [];
function createTestPool(size: number): WorkerPool<string, number> {
  const pool = createWorkerPool<string, number>({ script: testWorker, size });
  pools.push(pool);
  return pool;
}
after(async () => {
  await Promise.all(pools.map((pool) => pool.close()));
});

describe('worker pool', () => {
  it('runs jobs off the main thread', async () => {
    const result = await createTestPool(1).run('ping');
    assert.notEqual(result.threadId, mainThreadId);
    assert.equal(result.value, 0);
  });

  it('queues jobs beyond its size in FIFO order', async () => {
    const pool = createTestPool(1);
    const results = await Promise.all(['busy:5', 'a', 'b', 'c', 'd'].map((r) => pool.run(r)));
    assert.deepEqual(
      results.map((r) => r.value),
      [0, 1, 2, 3, 4],
    );
    assert.ok(results.every((r) => r.threadId === results[0]?.threadId));
    assert.ok((results[4]?.waitMs ?? 0) >= 5, 'the last job waited behind the busy one');
  });

  it('runs at most `size` jobs at once, on that many threads', async () => {
    const pool = createTestPool(2);
    const results = await Promise.all(Array.from({ length: 8 }, () => pool.run('busy:5')));
    const threads = new Set(results.map((r) => r.threadId));
    assert.equal(threads.size, 2);
    assert.ok(!threads.has(mainThreadId));
  });

  it('rejects a job whose handler throws and keeps the worker', async () => {
    const pool = createTestPool(1);
    const first = await pool.run('ping');
    await assert.rejects(pool.run('throw'), { message: 'handler refused' });
    const next = await pool.run('ping');
    assert.equal(next.threadId, first.threadId);
  });

  it('rejects the job of a worker that dies and replaces the worker', async () => {
    const pool = createTestPool(1);
    const first = await pool.run('ping');
    const [crashed, queued] = await Promise.allSettled([pool.run('exit'), pool.run('ping')]);
    assert.equal(crashed.status, 'rejected');
    assert.match(String(crashed.reason), /exited with code 7/);
    assert.equal(queued.status, 'fulfilled');
    assert.notEqual(queued.value.threadId, first.threadId);
    assert.equal(queued.value.value, 0, 'a fresh worker');
  });

  it('rejects jobs when the worker script cannot load', async () => {
    const pool = createWorkerPool<string, number>({
      script: new URL('./no-such-worker.js', import.meta.url),
      size: 1,
    });
    pools.push(pool);
    await assert.rejects(pool.run('ping'));
    await assert.rejects(pool.run('ping'), 'each job fails once; no respawn loop');
  });

  it('rejects running and queued jobs on close, and every job after it', async () => {
    const pool = createTestPool(1);
    const running = assert.rejects(pool.run('busy:200'), { message: 'worker pool is closed' });
    const queued = assert.rejects(pool.run('ping'), { message: 'worker pool is closed' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await pool.close();
    await Promise.all([running, queued]);
    await assert.rejects(pool.run('ping'), { message: 'worker pool is closed' });
    await pool.close();
  });

  it('refuses a size that is not a positive integer', () => {
    for (const size of [0, -1, 1.5, Number.NaN]) {
      assert.throws(() => createWorkerPool({ script: testWorker, size }), RangeError);
    }
  });
});
