// argon2id password hashing on a small pool of worker threads of its own. On the event loop a
// hash would stall every request for ~10 ms; on libuv's shared pool (where the library's async
// functions run) hashes would queue ahead of the WebCrypto work of JWT verification.

import { randomBytes } from 'node:crypto';
import { parseOptions } from '@node-rs/argon2';
import type { Algorithm, Version } from '@node-rs/argon2';
import type { Argon2Parameters } from '../../config/types.js';
import type { HashRequest, HashWorkerData } from './hash-worker.js';
import { createWorkerPool } from './worker-pool.js';
import type { WorkerJobResult } from './worker-pool.js';

/**
 * Every `password` argument must already be in the policy's normal form
 * (`PasswordPolicy.normalize`, NFKC), at set time and at verify time alike: the hasher hashes
 * the code points it is given.
 */
export interface PasswordHasher {
  /** An argon2id PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`) with a fresh salt. */
  hash(password: string): Promise<string>;
  /**
   * Resolves false for a wrong password and for a malformed hash. Rejects only when the
   * hasher fails (worker crash, hasher closed) or when the stored hash asks for a cost far
   * above the configured one.
   */
  verify(hash: string, password: string): Promise<boolean>;
  /**
   * Costs what `verify` costs and always resolves false: the login path calls it for an
   * unknown email so that the response time does not reveal whether the account exists.
   */
  verifyDummy(password: string): Promise<false>;
  /** True when the hash was made with other parameters; rehash it after a successful verify. */
  needsRehash(hash: string): boolean;
  /** Rejects pending work and stops the workers. Idempotent. */
  close(): Promise<void>;
}

export interface HashJobSample {
  readonly operation: 'hash' | 'verify';
  /** The worker thread that ran the job; never the main thread's. */
  readonly threadId: number;
  /** Time queued behind other hashes: the signal that `concurrency` is too low. */
  readonly waitMs: number;
  readonly runMs: number;
}

export interface Argon2HasherOptions {
  readonly params: Argon2Parameters;
  /** Worker threads, hence hashes computed at once; more wait in a FIFO queue. */
  readonly concurrency: number;
  /** Called after every job, for metrics. */
  readonly onJob?: (sample: HashJobSample) => void;
}

// Imported hashes made with a costlier preset (libsodium's "moderate" is 256 MiB, t=3) must
// still verify; anything far beyond that is a corrupt row, not a password.
const COST_HEADROOM = 4;
const MIN_MEMORY_COST_LIMIT = 256 * 1024;
const MIN_TIME_COST_LIMIT = 16;

const ARGON2ID: Algorithm = 2;
const VERSION_0X13: Version = 1;
const MIN_SALT_BYTES = 16;

function assertParameters(params: Argon2Parameters): void {
  const { memoryCost, timeCost, parallelism } = params;
  for (const [name, value] of Object.entries({ memoryCost, timeCost, parallelism })) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`argon2 ${name} must be a positive integer, got ${value}`);
    }
  }
  if (parallelism > 255) {
    throw new RangeError(`argon2 parallelism must be at most 255, got ${parallelism}`);
  }
  if (memoryCost < 8 * parallelism) {
    throw new RangeError(
      `argon2 memoryCost must be at least 8 KiB per lane (${8 * parallelism}), got ${memoryCost}`,
    );
  }
}

export function createArgon2Hasher(options: Argon2HasherOptions): PasswordHasher {
  const { params, concurrency, onJob } = options;
  assertParameters(params);
  const workerData: HashWorkerData = {
    params: {
      memoryCost: params.memoryCost,
      timeCost: params.timeCost,
      parallelism: params.parallelism,
    },
    maxMemoryCost: Math.max(COST_HEADROOM * params.memoryCost, MIN_MEMORY_COST_LIMIT),
    maxTimeCost: Math.max(COST_HEADROOM * params.timeCost, MIN_TIME_COST_LIMIT),
  };
  const pool = createWorkerPool<HashRequest, string | boolean>({
    script: new URL('./hash-worker.js', import.meta.url),
    size: concurrency,
    workerData,
  });

  async function run(request: HashRequest): Promise<string | boolean> {
    const result: WorkerJobResult<string | boolean> = await pool.run(request);
    onJob?.({
      operation: request.operation,
      threadId: result.threadId,
      waitMs: result.waitMs,
      runMs: result.runMs,
    });
    return result.value;
  }

  async function hash(password: string): Promise<string> {
    const value = await run({ operation: 'hash', password });
    if (typeof value !== 'string') throw new Error('hash worker answered a hash with a non-string');
    return value;
  }

  async function verify(hash: string, password: string): Promise<boolean> {
    const value = await run({ operation: 'verify', hash, password });
    if (typeof value !== 'boolean')
      throw new Error('hash worker answered a verify with a non-boolean');
    return value;
  }

  let dummyHash: Promise<string> | null = null;
  function getDummyHash(): Promise<string> {
    dummyHash ??= hash(randomBytes(32).toString('base64url')).catch((error: unknown) => {
      // Let the next unknown-email login try again rather than fail forever.
      dummyHash = null;
      throw error;
    });
    return dummyHash;
  }

  return {
    hash,

    async verify(hash: string, password: string): Promise<boolean> {
      // Computed at the first login of any kind, so that the first unknown-email login does
      // not take a hash longer than a real one. Its failure surfaces in verifyDummy.
      getDummyHash().catch(() => undefined);
      return verify(hash, password);
    },

    async verifyDummy(password: string): Promise<false> {
      await verify(await getDummyHash(), password);
      return false;
    },

    needsRehash(hash: string): boolean {
      let parsed;
      try {
        parsed = parseOptions(hash);
      } catch {
        return true;
      }
      return (
        parsed.algorithm !== ARGON2ID ||
        parsed.version !== VERSION_0X13 ||
        parsed.memoryCost !== params.memoryCost ||
        parsed.timeCost !== params.timeCost ||
        parsed.parallelism !== params.parallelism ||
        parsed.saltLen < MIN_SALT_BYTES
      );
    },

    close(): Promise<void> {
      return pool.close();
    },
  };
}
