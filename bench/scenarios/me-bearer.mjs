// Rows: GET /v1/me with a Bearer EdDSA access token, and its ratio to the ceiling measured in
// the same round. The token is the same for every request, as a real client's would be until it
// expires, so after the first request this is the verified-token cache path plus the user lookup.
import { expectStatus } from '../lib/latchkey-api.mjs';
import { cannonRows, cannonWindow } from './shared.mjs';

const CONNECTIONS = 50;

export default {
  id: 'me-bearer',
  needs: ['latchkey'],

  async prepare(ctx) {
    const [user] = await ctx.users(1);
    const { access_token: accessToken } = await ctx.api.login(user.email);
    expectStatus(await ctx.api.me(accessToken), 200, 'GET /v1/me with the bench token');
    return { headers: { authorization: `Bearer ${accessToken}` } };
  },

  measure: (ctx, { headers }) =>
    cannonWindow(ctx, ctx.servers.latchkey, { path: '/v1/me', headers, connections: CONNECTIONS }),

  describe: (run) => `${Math.round(run.rps)} req/s, p99 ${run.p99} ms`,

  rows: (runs, all) =>
    cannonRows({
      id: 'me-bearer',
      label: `GET /v1/me, Bearer EdDSA (autocannon -c ${CONNECTIONS})`,
      ratioLabel: 'GET /v1/me Bearer ÷ ceiling (same round)',
      goal: { op: '>=', target: 0.5 },
      runs,
      ceiling: all.ceiling,
    }),
};
