// The ceiling: a bare node:http server answering a fixed small JSON body, in its own process.
// Whatever Latchkey reaches is read against what this reaches on the same box at the same time.
import { createServer } from 'node:http';
import { serveParent } from './lib/child-ipc.mjs';
import { createServerStats } from './lib/server-stats.mjs';

const BODY = JSON.stringify({ status: 'ok', service: 'auth' });
const HEADERS = { 'content-type': 'application/json', 'content-length': String(BODY.length) };

const stats = createServerStats();
const server = createServer((_request, response) => {
  response.writeHead(200, HEADERS);
  response.end(BODY);
});

const { ready } = serveParent({
  windowStart: () => stats.windowStart(),
  windowEnd: () => stats.windowEnd(),
  shutdown: () => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(() => resolve()));
  },
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  ready({ url: `http://127.0.0.1:${port}`, pid: process.pid });
});
