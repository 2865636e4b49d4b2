// CORS for the configured origins only (the issuer's and the clients' allowedOrigins), with
// credentials, and only on an exact match: no wildcard, no reflection of arbitrary origins.
import type { FastifyReply, FastifyRequest } from 'fastify';

const ALLOWED_HEADERS = 'authorization, content-type, x-csrf-token';
const ALLOWED_METHODS = 'GET, POST, DELETE';

export function applyCors(
  request: FastifyRequest,
  reply: FastifyReply,
  allowedOrigins: ReadonlySet<string>,
): void {
  // Whatever the answer, it depends on Origin: caches must key on it.
  void reply.header('vary', 'Origin');
  const origin = request.headers.origin;
  if (origin === undefined || !allowedOrigins.has(origin)) return;
  void reply.headers({
    'access-control-allow-origin': origin,
    'access-control-allow-credentials': 'true',
  });
  if (request.method === 'OPTIONS') {
    void reply.headers({
      'access-control-allow-methods': ALLOWED_METHODS,
      'access-control-allow-headers': ALLOWED_HEADERS,
      'access-control-max-age': '600',
    });
  }
}
