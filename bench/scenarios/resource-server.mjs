// Row: a resource server built on @latchkey/verifier (bench/resource-server.mjs: node:http and the
// node adapter, verified-token cache on, following the `latchkey` server's revocation feed),
// loaded like the ceiling with one valid Bearer token, and its ratio to the ceiling measured in
// the same round. After the first request this is the cache hit, the revocation and staleness
// checks and the adapter, on top of what the bare node:http ceiling does.
import { BENCH_RESOURCE_SERVER } from '../lib/context.mjs';
import { createHttpClient } from '../lib/http.mjs';
import { expectStatus } from '../lib/latchkey-api.mjs';
import { cannonRows, cannonWindow } from './shared.mjs';

const CONNECTIONS = 50;

/** One resource-server child per context, shared by the scenarios that need one. */
const started = new WeakMap();

/** The resource server following `latchkey`'s feed, started on first use (stopped with ctx). */
export function resourceServer(ctx) {
  if (!started.has(ctx)) {
    const args = [
      JSON.stringify({ issuer: ctx.servers.latchkey.url, credential: BENCH_RESOURCE_SERVER }),
    ];
    const child = ctx.startChild('resource-server.mjs', { name: 'resource-server', args });
    started.set(
      ctx,
      child.then((server) => {
        ctx.log(`resource-server: ${server.url} (pid ${server.pid})`);
        return server;
      }),
    );
  }
  return started.get(ctx);
}

/** GET / on the resource server with `accessToken`; the raw response (lib/http.mjs). */
export function getWith(http, accessToken) {
  return http.request({ path: '/', headers: { authorization: `Bearer ${accessToken}` } });
}

export default {
  id: 'resource-server',
  needs: ['latchkey', 'ceiling'],

  async prepare(ctx) {
    const server = await resourceServer(ctx);
    const [user] = await ctx.users(1);
    const { access_token: accessToken } = await ctx.api.login(user.email);
    const http = createHttpClient(server.url);
    try {
      expectStatus(await getWith(http, accessToken), 200, 'resource server: GET / with a token');
      expectStatus(await getWith(http, 'not.a.token'), 401, 'resource server: GET / forged');
    } finally {
      http.close();
    }
    const headers = { authorization: `Bearer ${accessToken}` };
    return { server, headers };
  },

  measure: (ctx, { server, headers }) =>
    cannonWindow(ctx, server, { path: '/', headers, connections: CONNECTIONS }),

  describe: (run) => `${Math.round(run.rps)} req/s, p99 ${run.p99} ms`,

  rows: (runs, all) =>
    cannonRows({
      id: 'resource-server',
      label:
        `Resource server: node:http + verifier (cache on, feed followed), GET / Bearer EdDSA ` +
        `(autocannon -c ${CONNECTIONS})`,
      ratioLabel: 'Resource server ÷ ceiling (paired seconds)',
      goal: { op: '>=', target: 0.7 },
      runs,
      ceiling: all.ceiling,
    }),
};
