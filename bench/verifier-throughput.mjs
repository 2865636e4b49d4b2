// In-process verification throughput, no HTTP: @latchkey/verifier's verify() on one valid access
// token, with the verified-token cache (the default) and without (cacheSize 0), next to jose's
// jwtVerify alone in the same loop (the same token, the same key imported from the issuer's JWKS,
// the same checks the verifier asks jose for). Both verifiers follow the revocation feed, as a
// resource server's would. Each mode runs with the same number of calls in flight (jose verifies
// EdDSA on the libuv thread pool, so concurrency matters), in short slices that alternate between
// the modes, rotating their order, so the drift of this shared box affects all of them alike.
// Started by the verifier-throughput scenario as a child (IPC).
//
// argv[2]: JSON { issuer, credential: { id, secret } }; the audience is the issuer (client `app`).
import { performance } from 'node:perf_hooks';
import { decodeProtectedHeader, importJWK, jwtVerify } from 'jose';
import { createVerifier } from '../packages/verifier/dist/src/index.js';
import { serveParent } from './lib/child-ipc.mjs';
import { createHttpClient } from './lib/http.mjs';
import { createServerStats } from './lib/server-stats.mjs';

const MODES = ['jose', 'uncached', 'cached'];

const { issuer, credential } = JSON.parse(process.argv[2] ?? '{}');
if (typeof issuer !== 'string' || !credential) {
  throw new Error('verifier-throughput: argv[2] must be JSON { issuer, credential }');
}

const base = { issuer, audience: issuer, revocations: { credential } };
const verifiers = {
  cached: createVerifier(base),
  uncached: createVerifier({ ...base, cacheSize: 0 }),
};
/** mode → () => Promise<boolean> (true: the token was accepted); set by prepare(). */
let calls = null;

/** Loads the key as the verifier does, checks every mode accepts `token`, and warms them up. */
async function prepare({ token }) {
  await Promise.all(Object.values(verifiers).map((verifier) => verifier.ready()));
  const http = createHttpClient(issuer);
  const response = await http.request({ path: '/.well-known/jwks.json' });
  http.close();
  const { kid } = decodeProtectedHeader(token);
  const jwk = JSON.parse(response.text).keys.find((key) => key.kid === kid);
  if (!jwk) throw new Error(`verifier-throughput: no key ${kid} in the JWKS`);
  const key = await importJWK(jwk, jwk.alg);
  // What the verifier asks of jose (src/verifier.ts): pinned algorithm, iss, aud, typ, required
  // claims and its default clock skew (5 s).
  const options = {
    algorithms: [jwk.alg],
    issuer,
    audience: [issuer],
    typ: 'at+jwt',
    requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id'],
    clockTolerance: 5,
  };
  calls = {
    jose: async () => (await jwtVerify(token, key, options)).payload !== undefined,
    uncached: async () => (await verifiers.uncached.verify(token)).ok,
    cached: async () => (await verifiers.cached.verify(token)).ok,
  };
  for (const mode of MODES) {
    if (!(await calls[mode]())) throw new Error(`verifier-throughput: ${mode} refused the token`);
  }
  await run({ seconds: 0.6, sliceMs: 100, concurrency: 8 });
  return { alg: jwk.alg, tokenBytes: token.length };
}

/** `concurrency` lanes calling `mode` back to back until `ms` have passed. */
async function slice(mode, ms, concurrency) {
  const call = calls[mode];
  let ok = 0;
  let failed = 0;
  const started = performance.now();
  const deadline = started + ms;
  async function lane() {
    while (performance.now() < deadline) {
      try {
        if (await call()) ok++;
        else failed++;
      } catch {
        failed++;
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, lane));
  const elapsedMs = performance.now() - started;
  return { ok, failed, elapsedMs, rate: ok / (elapsedMs / 1000) };
}

/**
 * About `seconds` of slices of `sliceMs`, the modes in turn (order rotated every cycle). Returns
 * { cycles: [{ jose, uncached, cached }] (each a slice), totals: { mode: { ok, failed, rate } } }.
 */
async function run({ seconds, sliceMs, concurrency }) {
  if (!calls) throw new Error('verifier-throughput: prepare first');
  const count = Math.max(1, Math.round((seconds * 1000) / (sliceMs * MODES.length)));
  const cycles = [];
  for (let c = 0; c < count; c++) {
    const cycle = {};
    for (let k = 0; k < MODES.length; k++) {
      const mode = MODES[(c + k) % MODES.length];
      cycle[mode] = await slice(mode, sliceMs, concurrency);
    }
    cycles.push(cycle);
  }
  const totals = {};
  for (const mode of MODES) {
    const ok = cycles.reduce((sum, cycle) => sum + cycle[mode].ok, 0);
    const failed = cycles.reduce((sum, cycle) => sum + cycle[mode].failed, 0);
    const ms = cycles.reduce((sum, cycle) => sum + cycle[mode].elapsedMs, 0);
    totals[mode] = { ok, failed, rate: ok / (ms / 1000) };
  }
  return { cycles, totals, concurrency, sliceMs };
}

const stats = createServerStats();
const { ready } = serveParent({
  prepare,
  run,
  windowStart: () => stats.windowStart(),
  windowEnd: () => stats.windowEnd(),
  shutdown: () => Promise.all(Object.values(verifiers).map((verifier) => verifier.close())),
});
ready({ pid: process.pid });
