// A resource server in its own process, as a real deployment would run one: node:http plus the
// verifier middleware, configured from the environment. Prints `READY <port>` once the verifier
// is ready; GET /me answers the caller's claims, GET /status the verifier's status. Started by
// calling runResourceServer() in a child process (see integration.test.ts).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createVerifier } from '../../src/index.js';
import { createNodeAuthenticator } from '../../src/adapters/node.js';

export async function runResourceServer(): Promise<void> {
  const env = (name: string): string => {
    const value = process.env[name];
    if (value === undefined) throw new Error(`${name} is not set`);
    return value;
  };

  const verifier = createVerifier({
    issuer: env('LATCHKEY_ISSUER'),
    audience: env('LATCHKEY_AUDIENCE'),
    revocations: { credential: { id: env('LATCHKEY_RS_ID'), secret: env('LATCHKEY_RS_SECRET') } },
    onWarning: (message) => process.stderr.write(`verifier: ${message}\n`),
  });
  const authenticate = createNodeAuthenticator(verifier);

  const server = createServer((request, response) => {
    void (async () => {
      if (request.url === '/status') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify(verifier.status()));
        return;
      }
      const claims = await authenticate(request, response);
      if (!claims) return;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ sub: claims.sub, sid: claims.sid ?? null }));
    })();
  });

  await verifier.ready();
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`READY ${(server.address() as AddressInfo).port}\n`);
  });
  process.on('SIGTERM', () => {
    server.close();
    void verifier.close().then(() => process.exit(0));
  });
}
