// Runs inside the hasher's worker threads. The sync argon2 functions are used on purpose: the
// async ones would hand the work to libuv's shared thread pool.

import { workerData } from 'node:worker_threads';
import { hashSync, parseOptions, verifySync } from '@node-rs/argon2';
import type { Algorithm, Options, Version } from '@node-rs/argon2';
import type { Argon2Parameters } from '../../config/types.js';
import { serveWorkerRequests } from './worker-pool.js';

export interface HashWorkerData {
  readonly params: Argon2Parameters;
  /** Stored hashes that would cost more than this are refused rather than computed. */
  readonly maxMemoryCost: number;
  readonly maxTimeCost: number;
}

export type HashRequest =
  | { readonly operation: 'hash'; readonly password: string }
  | { readonly operation: 'verify'; readonly hash: string; readonly password: string };

const ARGON2ID: Algorithm = 2;
const VERSION_0X13: Version = 1;

const { params, maxMemoryCost, maxTimeCost } = workerData as HashWorkerData;

const hashOptions: Options = {
  algorithm: ARGON2ID,
  version: VERSION_0X13,
  memoryCost: params.memoryCost,
  timeCost: params.timeCost,
  parallelism: params.parallelism,
};

function verify(hash: string, password: string): boolean {
  let parsed;
  try {
    parsed = parseOptions(hash);
  } catch {
    return false;
  }
  // The library allocates whatever m= says: a corrupt or hostile row with m=4294967295 gets
  // the whole process killed for lack of memory, not just this verify.
  if (parsed.memoryCost > maxMemoryCost || parsed.timeCost > maxTimeCost) {
    throw new Error(
      `stored password hash needs m=${parsed.memoryCost} t=${parsed.timeCost}, ` +
        `over this server's limit of m=${maxMemoryCost} t=${maxTimeCost}`,
    );
  }
  return verifySync(hash, password);
}

serveWorkerRequests((request: HashRequest): string | boolean =>
  request.operation === 'hash'
    ? hashSync(request.password, hashOptions)
    : verify(request.hash, request.password),
);
