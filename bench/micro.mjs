// In-process microbenchmarks, no HTTP: what one access-token verification costs.
//  - jose jwtVerify per algorithm, keys imported once (CryptoKey), claims as Latchkey issues them;
//  - Latchkey's AccessTokens.issue and .verify (cache miss: a token never seen; cache hit: the
//    same token again), built by createServices() on an in-memory SQLite store.
// Each figure is the median µs per call over batches of sequential awaited calls, after warm-up.
// Started by bench/run.mjs as a child (IPC); `node bench/micro.mjs` alone prints JSON.
import { performance } from 'node:perf_hooks';
import { SignJWT, generateKeyPair, generateSecret, jwtVerify } from 'jose';
import { validateConfig } from '../packages/server/dist/src/config/load.js';
import { createServices } from '../packages/server/dist/src/latchkey.js';
import { openSqliteStorage } from '../packages/server/dist/src/adapters/sql/sqlite.js';
import { serveParent } from './lib/child-ipc.mjs';
import { median } from './lib/stats.mjs';

const ISSUER = 'http://127.0.0.1:8080';
const ALGORITHMS = ['EdDSA', 'ES256', 'RS256', 'HS256'];

/** µs per call of `fn(i)` (i counts every call): median, min and max over batches. */
async function measure(fn, { batch, batches = 25, warmup = batch }) {
  let i = 0;
  for (; i < warmup; i++) await fn(i);
  const perCall = [];
  for (let b = 0; b < batches; b++) {
    const started = performance.now();
    for (let k = 0; k < batch; k++) await fn(i++);
    perCall.push(((performance.now() - started) * 1000) / batch);
  }
  return {
    us: median(perCall),
    min: Math.min(...perCall),
    max: Math.max(...perCall),
    batch,
    batches,
  };
}

/** Calls `measure` will make in total, for pre-generating distinct inputs. */
const callsOf = ({ batch, batches = 25, warmup = batch }) => warmup + batch * batches;

function claims() {
  const iat = Math.floor(Date.now() / 1000);
  return {
    iss: ISSUER,
    sub: 'usr_01HZX3B8Q4K1M2N3P4R5S6T7V8',
    aud: ISSUER,
    exp: iat + 900,
    iat,
    jti: 'mJ9kq3v1Xn2bQ0sT7wYzAg',
    client_id: 'app',
    sid: 'ses_01HZX3B8Q4K1M2N3P4R5S6T7V9',
    roles: [],
  };
}

async function joseVerify(scale) {
  const results = {};
  for (const alg of ALGORITHMS) {
    const { signKey, verifyKey } =
      alg === 'HS256'
        ? await generateSecret(alg).then((key) => ({ signKey: key, verifyKey: key }))
        : await generateKeyPair(alg).then((p) => ({
            signKey: p.privateKey,
            verifyKey: p.publicKey,
          }));
    const token = await new SignJWT(claims())
      .setProtectedHeader({ alg, kid: 'bench', typ: 'at+jwt' })
      .sign(signKey);
    const options = { algorithms: [alg], issuer: ISSUER, audience: ISSUER, typ: 'at+jwt' };
    results[alg] = {
      ...(await measure(() => jwtVerify(token, verifyKey, options), {
        batch: Math.max(10, Math.round(200 * scale)),
      })),
      tokenBytes: token.length,
    };
  }
  return results;
}

async function latchkeyTokens(scale) {
  const config = validateConfig({ logLevel: 'warn', dataDir: ':memory:' });
  const storage = await openSqliteStorage({ dataDir: ':memory:' });
  const services = await createServices(config, { storage });
  try {
    const signUp = await services.accounts.signUp(
      'micro@example.com',
      'latchkey-bench-Quiet-Harbour-7c1e',
      { ip: null, userAgent: null },
    );
    if (!signUp.ok) throw new Error(`signUp failed: ${signUp.reason}`);
    const client = services.clients.get('app');
    const sessionId = 'ses_bench';

    // Issue measures signing and, as a by-product, yields distinct tokens for the cache misses.
    const plan = { batch: Math.max(10, Math.round(200 * scale)) };
    const tokens = [];
    const issue = await measure(
      async () =>
        tokens.push((await services.accessTokens.issue(signUp.user, client, sessionId)).token),
      plan,
    );
    if (tokens.length !== callsOf(plan)) throw new Error('token count mismatch');
    const verifyMiss = await measure(async (i) => {
      if (!(await services.accessTokens.verify(tokens[i]))) throw new Error('verify failed');
    }, plan);

    const token = tokens[0]; // verified above, so cached
    const verifyHit = await measure(
      async () => {
        if (!(await services.accessTokens.verify(token))) throw new Error('verify failed');
      },
      { batch: Math.max(100, Math.round(5_000 * scale)) },
    );
    return { algorithm: config.tokens.algorithm, issue, verifyMiss, verifyHit };
  } finally {
    await services.hasher.close();
    await services.storage.close();
  }
}

export async function runMicro({ scale = 1 } = {}) {
  return { jose: await joseVerify(scale), latchkey: await latchkeyTokens(scale) };
}

if (typeof process.send === 'function') {
  const { ready } = serveParent({ run: (payload) => runMicro(payload) });
  ready({ pid: process.pid });
} else {
  console.log(JSON.stringify(await runMicro(), null, 2));
}
