// Rows: GET /v1/me with a Bearer EdDSA access token, and its ratio to the ceiling measured in
// the same round, once per storage. The token is the same for every request, as a real client's
// would be until it expires, so after the first request this is the verified-token cache path
// plus the user lookup (the cache of active users, a store read when it misses).
import { expectStatus } from '../lib/latchkey-api.mjs';
import { cannonRows, cannonWindow } from './shared.mjs';
import { SQLITE } from './storages.mjs';

const CONNECTIONS = 50;

/** The scenario on `storage` (scenarios/storages.mjs); `goal` for the ratio row, if any. */
export function meBearer(storage, { goal } = {}) {
  const id = `${storage.idPrefix}me-bearer`;
  return {
    id,
    storage: storage.id,
    needs: [storage.server, 'ceiling'],

    async prepare(ctx) {
      const api = ctx.apiFor(storage.server);
      const [user] = await ctx.users(1, storage.server);
      const { access_token: accessToken } = await api.login(user.email);
      expectStatus(await api.me(accessToken), 200, 'GET /v1/me with the bench token');
      return { headers: { authorization: `Bearer ${accessToken}` } };
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
        label: `GET /v1/me, Bearer EdDSA, ${storage.label} (autocannon -c ${CONNECTIONS})`,
        ratioLabel: `GET /v1/me Bearer, ${storage.label} ÷ ceiling (paired seconds)`,
        goal: goal === undefined ? undefined : { op: '>=', target: goal },
        runs,
        ceiling: all.ceiling,
      }),
  };
}

export default meBearer(SQLITE, { goal: 0.5 });
