// The CSRF token of a cookie session is derived from the cookie secret: the server stores nothing
// more, a foreign page cannot compute it (it cannot read the HttpOnly cookie), and a new session
// secret (login, privilege change) brings a new token.
import { createHash, timingSafeEqual } from 'node:crypto';

export function deriveCsrfToken(sessionSecret: string): string {
  return createHash('sha256').update('latchkey-csrf\0').update(sessionSecret).digest('base64url');
}

export function csrfTokenMatches(sessionSecret: string, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const expected = Buffer.from(deriveCsrfToken(sessionSecret));
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
