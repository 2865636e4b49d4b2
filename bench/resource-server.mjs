// A resource server under test, in its own process: node:http with @latchkey/verifier's node
// adapter (verified-token cache on, the default size), following the revocation feed of the
// Latchkey child it is given. GET / (any path) with a valid Bearer token answers a small JSON
// body; anything else gets the adapter's 401 (or 503). It reports its URL over IPC and, on request,
// measurement windows and the verifier's status.
//
// argv[2]: JSON { issuer, credential: { id, secret } }; the audience is the issuer (client `app`).
import { Buffer } from 'node:buffer';
import { createServer } from 'node:http';
import { createVerifier } from '../packages/verifier/dist/src/index.js';
import { createNodeAuthenticator } from '../packages/verifier/dist/src/adapters/node.js';
import { serveParent } from './lib/child-ipc.mjs';
import { createServerStats } from './lib/server-stats.mjs';

const { issuer, credential } = JSON.parse(process.argv[2] ?? '{}');
if (typeof issuer !== 'string' || !credential) {
  throw new Error('resource-server: argv[2] must be JSON { issuer, credential }');
}

const verifier = createVerifier({
  issuer,
  audience: issuer,
  revocations: { credential },
  onWarning: (message) => process.stderr.write(`resource-server: ${message}\n`),
});
const authenticate = createNodeAuthenticator(verifier);

const stats = createServerStats();
const server = createServer(async (request, response) => {
  const claims = await authenticate(request, response);
  if (!claims) return; // the 401 (or 503) has been sent
  const body = JSON.stringify({ user: claims.sub, roles: claims.roles });
  response.writeHead(200, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
  });
  response.end(body);
});

const { ready } = serveParent({
  windowStart: () => stats.windowStart(),
  windowEnd: () => stats.windowEnd(),
  status: () => verifier.status(),
  shutdown: async () => {
    server.closeAllConnections();
    await Promise.all([new Promise((resolve) => server.close(() => resolve())), verifier.close()]);
  },
});

await verifier.ready(); // JWKS loaded, revocation feed caught up
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  ready({ url: `http://127.0.0.1:${port}`, pid: process.pid, feed: verifier.status().feed });
});
