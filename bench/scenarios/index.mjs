// The rows of the benchmark, in table order. To add a row, add a scenario module here:
//
//   export default {
//     id: 'me-cookie',               // unique; the key of its runs in results JSON
//     needs: ['latchkey'],           // servers it uses: 'latchkey' (SQLite), 'latchkey-pg'
//                                    // (PostgreSQL+Redis), 'ceiling' (lib/context.mjs)
//     storage: 'sqlite',             // the storage it measures (storages.mjs), which --storage
//                                    // selects; none: it runs whatever the storage
//     schedule: 'interleaved',       // default: one run per round, interleaved with the others;
//                                    // 'once': a single run after the rounds (static or in-process)
//     async prepare(ctx) {},         // optional, once before round 1; its result is `state`
//     async measure(ctx, state, round) {}, // one run → plain JSON-able object
//     describe(run) {},              // optional: one line of progress for stderr
//     rows(runs, allRuns, ctx) {},   // → table rows (lib/report.mjs); allRuns: { [id]: runs }
//   };
//
// Interleaved scenarios run in this order in odd rounds and in reverse in even rounds, so slow
// drift of the machine affects all of them alike. The ratio rows of me-bearer and me-cookie (on
// either storage) read the ceiling's run of the same round. Rows of one measurement on SQLite and
// on PostgreSQL+Redis stand next to each other.
import ceiling from './ceiling.mjs';
import credentialBytes from './credential-bytes.mjs';
import loginStorm from './login-storm.mjs';
import loginTiming from './login-timing.mjs';
import logins from './logins.mjs';
import meBearer, { meBearer as meBearerOn } from './me-bearer.mjs';
import meCookie, { meCookie as meCookieOn } from './me-cookie.mjs';
import micro from './micro.mjs';
import refresh, { refresh as refreshOn } from './refresh.mjs';
import resourceServer from './resource-server.mjs';
import revocationPropagation from './revocation-propagation.mjs';
import riskRefresh from './risk-refresh.mjs';
import sessionMemory from './session-memory.mjs';
import { POSTGRES_REDIS } from './storages.mjs';
import verifierThroughput from './verifier-throughput.mjs';

export const SCENARIOS = [
  ceiling,
  meBearer,
  meBearerOn(POSTGRES_REDIS),
  meCookie,
  meCookieOn(POSTGRES_REDIS, { goal: 0.35 }),
  refresh,
  refreshOn(POSTGRES_REDIS, { goal: 1000 }),
  riskRefresh,
  logins,
  loginTiming,
  loginStorm,
  credentialBytes,
  sessionMemory,
  micro,
  resourceServer,
  verifierThroughput,
  revocationPropagation,
];
