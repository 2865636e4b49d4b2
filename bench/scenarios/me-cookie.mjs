// Rows: GET /v1/me with a session cookie (the `session` strategy, client `web`), and its ratio to
// the ceiling measured in the same round. One login via POST /v1/session; every request then sends
// the same `Cookie: lk_session=…`, as a browser would: the session lookup by the hash of its
// secret (with the idle expiry it slides) and the user lookup, plus Fastify, metrics and logging.
import { expectStatus } from '../lib/latchkey-api.mjs';
import { cannonRows, cannonWindow } from './shared.mjs';

const CONNECTIONS = 50;

export default {
  id: 'me-cookie',
  needs: ['latchkey'],

  async prepare(ctx) {
    const [user] = await ctx.users(1);
    const { pair } = await ctx.api.sessionCookie(user.email);
    const headers = { cookie: pair };
    expectStatus(await ctx.api.meWith(headers), 200, 'GET /v1/me with the bench session cookie');
    return { headers };
  },

  measure: (ctx, { headers }) =>
    cannonWindow(ctx, ctx.servers.latchkey, { path: '/v1/me', headers, connections: CONNECTIONS }),

  describe: (run) => `${Math.round(run.rps)} req/s, p99 ${run.p99} ms`,

  rows: (runs, all) =>
    cannonRows({
      id: 'me-cookie',
      label: `GET /v1/me, session cookie (autocannon -c ${CONNECTIONS})`,
      ratioLabel: 'GET /v1/me cookie ÷ ceiling (same round)',
      goal: { op: '>=', target: 0.45 },
      runs,
      ceiling: all.ceiling,
    }),
};
