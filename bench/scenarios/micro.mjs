// Rows: verification cost per call, in process, no HTTP (bench/micro.mjs in its own child
// process). Measured once, after the HTTP rounds, with the servers idle.
import { DISTURBED_CORES, withUnit } from '../lib/report.mjs';

const row = (run, id, label, m, detail = '') => ({
  id,
  label,
  unit: 'µs',
  value: m.us,
  perRun: [m.us],
  disturbed: [(run.window?.machine?.otherCores ?? 0) > DISTURBED_CORES],
  detail: `range ${withUnit(m.min, 'µs')}–${withUnit(m.max, 'µs')} over ${m.batches} batches of ${m.batch}${detail}`,
  errors: 0,
});

export default {
  id: 'micro',
  schedule: 'once',
  needs: [],

  async measure(ctx) {
    const child = await ctx.startChild('micro.mjs', { name: 'micro' });
    try {
      const window = await ctx.window(null);
      const result = await child.call('run', { scale: ctx.settings.microScale }, 120_000);
      return { ...result, window: await window.end() };
    } finally {
      await child.stop();
    }
  },

  describe: (run) =>
    Object.entries(run.jose)
      .map(([alg, m]) => `${alg} ${m.us.toFixed(0)} µs`)
      .join(', '),

  rows([run]) {
    const { jose, latchkey } = run;
    return [
      ...Object.entries(jose).map(([alg, m]) =>
        row(
          run,
          `micro.jose.${alg}`,
          `jose jwtVerify ${alg}, key imported once`,
          m,
          `; ${m.tokenBytes}-byte token`,
        ),
      ),
      row(
        run,
        `micro.latchkey.issue`,
        `Latchkey AccessTokens.issue (${latchkey.algorithm})`,
        latchkey.issue,
      ),
      row(
        run,
        `micro.latchkey.verify-miss`,
        `Latchkey AccessTokens.verify, cache miss (${latchkey.algorithm})`,
        latchkey.verifyMiss,
      ),
      row(
        run,
        `micro.latchkey.verify-hit`,
        `Latchkey AccessTokens.verify, cache hit`,
        latchkey.verifyHit,
      ),
    ];
  },
};
