// A fixed-size pool of worker threads with a FIFO queue. CPU-heavy work (password hashing) runs
// here rather than on the event loop or on libuv's shared thread pool, where it would queue
// ahead of file, DNS and WebCrypto work.

import { performance } from 'node:perf_hooks';
import { Worker, parentPort, threadId } from 'node:worker_threads';

export interface WorkerPoolOptions {
  /** Module each worker runs; it must call `serveWorkerRequests`. */
  readonly script: URL;
  readonly size: number;
  /** Structured-cloned into every worker as `workerData`. */
  readonly workerData?: unknown;
}

export interface WorkerJobResult<Result> {
  readonly value: Result;
  /** `threadId` as reported from inside the worker that ran the job. */
  readonly threadId: number;
  /** Time the job waited in the queue for a free worker. */
  readonly waitMs: number;
  /** Time the worker spent on the job. */
  readonly runMs: number;
}

export interface WorkerPool<Request, Result> {
  /**
   * Rejects when the handler throws, when the worker dies while running the job (the pool
   * starts a replacement for the jobs behind it) or when the pool is closed first.
   */
  run(request: Request): Promise<WorkerJobResult<Result>>;
  /** Rejects queued and running jobs and terminates the workers. Idempotent. */
  close(): Promise<void>;
}

interface RequestMessage<Request> {
  readonly id: number;
  readonly request: Request;
}

type ReplyMessage<Result> =
  | {
      readonly id: number;
      readonly ok: true;
      readonly value: Result;
      readonly threadId: number;
      readonly runMs: number;
    }
  | {
      readonly id: number;
      readonly ok: false;
      readonly message: string;
      readonly threadId: number;
      readonly runMs: number;
    };

function isReply(message: unknown): message is ReplyMessage<unknown> {
  return (
    typeof message === 'object' &&
    message !== null &&
    typeof (message as { id?: unknown }).id === 'number' &&
    typeof (message as { ok?: unknown }).ok === 'boolean'
  );
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

export function createWorkerPool<Request, Result>(
  options: WorkerPoolOptions,
): WorkerPool<Request, Result> {
  const { script, size, workerData } = options;
  if (!Number.isSafeInteger(size) || size < 1) {
    throw new RangeError(`worker pool size must be a positive integer, got ${size}`);
  }

  interface Job {
    readonly request: Request;
    readonly enqueuedAt: number;
    readonly resolve: (result: WorkerJobResult<Result>) => void;
    readonly reject: (error: Error) => void;
  }
  interface Slot {
    readonly worker: Worker;
    job: Job | null;
    jobId: number;
    waitMs: number;
    failure: Error | null;
  }

  const queue: Job[] = [];
  const idle: Slot[] = [];
  const slots = new Set<Slot>();
  let nextJobId = 0;
  let closing: Promise<void> | null = null;

  function spawn(): Slot {
    const worker = new Worker(script, { workerData });
    const slot: Slot = { worker, job: null, jobId: -1, waitMs: 0, failure: null };
    worker.on('message', (message: unknown) => settle(slot, message));
    worker.on('error', (error: Error) => {
      slot.failure = error;
    });
    worker.on('exit', (code: number) => retire(slot, code));
    slots.add(slot);
    return slot;
  }

  function release(slot: Slot): void {
    slot.job = null;
    // An idle worker must not keep the process alive; a busy one must, or the job is lost.
    slot.worker.unref();
    idle.push(slot);
  }

  function dispatch(slot: Slot, job: Job): void {
    slot.job = job;
    slot.jobId = nextJobId++;
    slot.waitMs = performance.now() - job.enqueuedAt;
    slot.worker.ref();
    try {
      const message: RequestMessage<Request> = { id: slot.jobId, request: job.request };
      slot.worker.postMessage(message);
    } catch (error) {
      release(slot);
      job.reject(toError(error));
    }
  }

  function pump(): void {
    while (closing === null && queue.length > 0) {
      let slot = idle.pop();
      if (slot === undefined) {
        if (slots.size >= size) return;
        try {
          slot = spawn();
        } catch (error) {
          queue.shift()?.reject(toError(error));
          continue;
        }
      }
      const job = queue.shift();
      if (job === undefined) return;
      dispatch(slot, job);
    }
  }

  function settle(slot: Slot, message: unknown): void {
    const job = slot.job;
    // Replies to a job already rejected by close() are dropped.
    if (job === null || !isReply(message) || message.id !== slot.jobId) return;
    const waitMs = slot.waitMs;
    release(slot);
    if (message.ok) {
      job.resolve({
        value: message.value as Result,
        threadId: message.threadId,
        waitMs,
        runMs: message.runMs,
      });
    } else {
      job.reject(new Error(message.message));
    }
    pump();
  }

  function retire(slot: Slot, code: number): void {
    slots.delete(slot);
    const index = idle.indexOf(slot);
    if (index !== -1) idle.splice(index, 1);
    const job = slot.job;
    slot.job = null;
    if (job !== null) {
      job.reject(
        new Error(`worker thread exited with code ${code} while running a job`, {
          cause: slot.failure ?? undefined,
        }),
      );
    }
    pump();
  }

  return {
    run(request: Request): Promise<WorkerJobResult<Result>> {
      if (closing !== null) return Promise.reject(new Error('worker pool is closed'));
      return new Promise((resolve, reject) => {
        queue.push({ request, enqueuedAt: performance.now(), resolve, reject });
        pump();
      });
    },

    close(): Promise<void> {
      if (closing !== null) return closing;
      const error = new Error('worker pool is closed');
      const running = [...slots].map((slot) => {
        const job = slot.job;
        slot.job = null;
        return { job, exit: slot.worker.terminate() };
      });
      closing = Promise.all(running.map(({ exit }) => exit)).then(() => undefined);
      for (const job of queue.splice(0)) job.reject(error);
      for (const { job } of running) job?.reject(error);
      return closing;
    },
  };
}

/**
 * The worker side of the pool: answers each request with `handle`'s result. Whatever `handle`
 * throws reaches the caller as the error message, so it must never include secret input.
 */
export function serveWorkerRequests<Request, Result>(handle: (request: Request) => Result): void {
  const port = parentPort;
  if (port === null) throw new Error('serveWorkerRequests must run in a worker thread');
  port.on('message', ({ id, request }: RequestMessage<Request>) => {
    const start = performance.now();
    let reply: ReplyMessage<Result>;
    try {
      const value = handle(request);
      reply = { id, ok: true, value, threadId, runMs: performance.now() - start };
    } catch (error) {
      const message = toError(error).message;
      reply = { id, ok: false, message, threadId, runMs: performance.now() - start };
    }
    port.postMessage(reply);
  });
}
