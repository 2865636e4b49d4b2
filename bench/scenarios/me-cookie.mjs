// Rows: GET /v1/me with a session cookie (the `session` strategy, client `web`), and its ratio to
// the ceiling measured in the same round, once per storage. One login via POST /v1/session; every
// request then sends the same `Cookie: lk_session=…`, as a browser would: the session lookup by
// the hash of its secret (in the store, or in Redis when configured; the idle expiry slides at most
// once a minute) and the user lookup, plus Fastify, metrics and logging.
import { expectStatus } from '../lib/latchkey-api.mjs';
import { cannonRows, cannonWindow } from './shared.mjs';
import { SQLITE } from './storages.mjs';

const CONNECTIONS = 50;

/** The scenario on `storage` (scenarios/storages.mjs); `goal` for the ratio row. */
export function meCookie(storage, { goal } = {}) {
  const id = `${storage.idPrefix}me-cookie`;
  return {
    id,
    storage: storage.id,
    needs: [storage.server, 'ceiling'],

    async prepare(ctx) {
      const api = ctx.apiFor(storage.server);
      const [user] = await ctx.users(1, storage.server);
      const { pair } = await api.sessionCookie(user.email);
      const headers = { cookie: pair };
      expectStatus(await api.meWith(headers), 200, 'GET /v1/me with the bench session cookie');
      return { headers };
    },

    measure: (ctx, { headers }) =>
      cannonWindow(ctx, ctx.servers[storage.server], {
        path: '/v1/me',
        headers,
        connections: CONNECTIONS,
      }),

    describe: (run) => `${Math.round(run.rps)} req/s, p99 ${run.p99} ms`,

    rows: (runs, all) =>
      cannonRows({
        id,
        label: `GET /v1/me, session cookie, ${storage.label} (autocannon -c ${CONNECTIONS})`,
        ratioLabel: `GET /v1/me cookie, ${storage.label} ÷ ceiling (paired seconds)`,
        goal: goal === undefined ? undefined : { op: '>=', target: goal },
        runs,
        ceiling: all.ceiling,
      }),
  };
}

export default meCookie(SQLITE, { goal: 0.45 });
