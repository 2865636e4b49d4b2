// A minimal keep-alive HTTP client on node:http, for setup calls and the custom load loops:
// lighter on the shared CPU than fetch, and the latency it reports is the whole round trip.
import { Buffer } from 'node:buffer';
import { Agent, request as httpRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import { URLSearchParams } from 'node:url';

const REQUEST_TIMEOUT_MS = 15_000;

export function createHttpClient(baseUrl, { maxSockets = 64 } = {}) {
  const base = new URL(baseUrl);
  if (base.hostname !== '127.0.0.1') throw new Error(`loopback only, got ${base.hostname}`);
  const agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });

  /** Resolves with { status, headers, text, ms }; rejects only on network errors and timeouts. */
  function request({ method = 'GET', path, headers = {}, body }) {
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          agent,
          host: base.hostname,
          port: base.port,
          method,
          path,
          headers: body === undefined ? headers : { ...headers, 'content-length': body.length },
        },
        (res) => {
          const chunks = [];
          res.setEncoding('utf8');
          res.on('data', (chunk) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () =>
            resolve({
              status: res.statusCode,
              headers: res.headers,
              text: chunks.join(''),
              ms: performance.now() - started,
            }),
          );
        },
      );
      req.setTimeout(REQUEST_TIMEOUT_MS, () =>
        req.destroy(new Error(`timeout after ${REQUEST_TIMEOUT_MS} ms`)),
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  return {
    request,
    /** POST an application/x-www-form-urlencoded body. */
    postForm(path, fields, headers = {}) {
      return request({
        method: 'POST',
        path,
        headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
        body: Buffer.from(new URLSearchParams(fields).toString()),
      });
    },
    /** POST a JSON body. */
    postJson(path, value, headers = {}) {
      return request({
        method: 'POST',
        path,
        headers: { ...headers, 'content-type': 'application/json' },
        body: Buffer.from(JSON.stringify(value)),
      });
    },
    close() {
      agent.destroy();
    },
  };
}
