// Cross-site request defences. Browsers send `Origin` on cross-origin POSTs and
// `Sec-Fetch-Site` on every request; either one naming a foreign site is refused.
import type { FastifyRequest } from 'fastify';
import { csrfTokenMatches } from '../core/csrf-token.js';
import { ProblemError } from '../core/errors.js';

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Refuses a request a foreign page made the browser send: an `Origin` that is not ours or a
 * configured client's (`null` included), or `Sec-Fetch-Site: cross-site`. Origins compare
 * exactly: `https://app.example.evil.test` is not `https://app.example`.
 */
export function refuseCrossSite(
  request: FastifyRequest,
  allowedOrigins: ReadonlySet<string>,
): void {
  const origin = header(request, 'origin');
  if (origin !== undefined && !allowedOrigins.has(origin)) {
    throw new ProblemError('csrf_failed', 'the request came from a foreign origin');
  }
  if (header(request, 'sec-fetch-site') === 'cross-site') {
    throw new ProblemError('csrf_failed', 'cross-site requests are refused');
  }
}

/** Unsafe methods authenticated by the cookie must echo the session's CSRF token. */
export function requireCsrfToken(request: FastifyRequest, sessionSecret: string): void {
  if (!csrfTokenMatches(sessionSecret, header(request, 'x-csrf-token'))) {
    throw new ProblemError('csrf_failed', 'the X-CSRF-Token header is missing or wrong');
  }
}
