// The rows of the benchmark, in table order. To add a row, add a scenario module here:
//
//   export default {
//     id: 'me-cookie',               // unique; the key of its runs in results JSON
//     needs: ['latchkey'],           // servers it uses: 'latchkey', 'ceiling' (lib/context.mjs)
//     schedule: 'interleaved',       // default: one run per round, interleaved with the others;
//                                    // 'once': a single run after the rounds (static or in-process)
//     async prepare(ctx) {},         // optional, once before round 1; its result is `state`
//     async measure(ctx, state, round) {}, // one run → plain JSON-able object
//     describe(run) {},              // optional: one line of progress for stderr
//     rows(runs, allRuns, ctx) {},   // → table rows (lib/report.mjs); allRuns: { [id]: runs }
//   };
//
// Interleaved scenarios run in this order in odd rounds and in reverse in even rounds, so slow
// drift of the machine affects all of them alike. The ratio rows of me-bearer and me-cookie read
// the ceiling's run of the same round.
import ceiling from './ceiling.mjs';
import credentialBytes from './credential-bytes.mjs';
import loginStorm from './login-storm.mjs';
import loginTiming from './login-timing.mjs';
import logins from './logins.mjs';
import meBearer from './me-bearer.mjs';
import meCookie from './me-cookie.mjs';
import micro from './micro.mjs';
import refresh from './refresh.mjs';

export const SCENARIOS = [
  ceiling,
  meBearer,
  meCookie,
  refresh,
  logins,
  loginTiming,
  loginStorm,
  credentialBytes,
  micro,
];
