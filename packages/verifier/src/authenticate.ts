// The one core behind every framework adapter: an Authorization header in, claims or the complete
// HTTP refusal out. RFC 6750: no Bearer token → 401 `WWW-Authenticate: Bearer`; a bad one → 401
// `Bearer error="invalid_token"`, with the same body whatever the cause. When the verifier itself
// cannot decide (JWKS unreachable, revocation feed stale), the answer is 503: the token may be
// fine, and a client told "invalid_token" would throw it away and log its user out.
import type { AccessTokenClaims } from './claims.js';
import { TOKEN_ERROR_CODES, VerifierError } from './errors.js';
import type { Verifier } from './verifier.js';

export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly code: 'unauthenticated' | 'service_unavailable';
}

export type AuthenticationResult =
  | { readonly ok: true; readonly claims: AccessTokenClaims }
  | {
      readonly ok: false;
      readonly status: 401 | 503;
      /** Lower-case names; includes `content-type`. */
      readonly headers: Readonly<Record<string, string>>;
      /** application/problem+json (RFC 9457), as Latchkey itself answers. */
      readonly body: Problem;
      /** Why, for your logs; `null` when no Bearer token was presented. Never sent to clients. */
      readonly error: VerifierError | null;
    };

/** Seconds a client should wait after a 503 before retrying. */
const RETRY_AFTER_SECONDS = '5';

const SPACE = 0x20;

/**
 * What `Authorization: Bearer <token>` presents (RFC 6750: the scheme in any case, spaces, the
 * token, optional trailing spaces): the token; `''` for a Bearer header without one; `null` for
 * another scheme or none. Read by hand: two regular expressions over a 550-byte header cost most
 * of a microsecond a request. Whitespace other than spaces inside the token is for verification
 * to refuse, as any string that is not a strict compact JWS.
 */
export function bearerCredentials(header: string): string | null {
  const schemeEnd = header.indexOf(' ');
  const scheme = schemeEnd === -1 ? header : header.slice(0, schemeEnd);
  if (scheme.length !== 6 || scheme.toLowerCase() !== 'bearer') return null;
  if (schemeEnd === -1) return '';
  let start = schemeEnd + 1;
  while (header.charCodeAt(start) === SPACE) start++;
  let end = header.length;
  while (end > start && header.charCodeAt(end - 1) === SPACE) end--;
  const token = header.slice(start, end);
  // Two words after the scheme are not one token.
  return token.includes(' ') ? '' : token;
}

const UNAUTHENTICATED: Problem = Object.freeze({
  type: 'urn:latchkey:problem:unauthenticated',
  title: 'Authentication required',
  status: 401,
  code: 'unauthenticated',
});

const UNAVAILABLE: Problem = Object.freeze({
  type: 'urn:latchkey:problem:service_unavailable',
  title: 'Service temporarily unavailable',
  status: 503,
  code: 'service_unavailable',
});

const PROBLEM_JSON = 'application/problem+json';

function unauthenticated(error: VerifierError | null): AuthenticationResult {
  return {
    ok: false,
    status: 401,
    headers: {
      'content-type': PROBLEM_JSON,
      'www-authenticate': error === null ? 'Bearer' : 'Bearer error="invalid_token"',
    },
    body: UNAUTHENTICATED,
    error,
  };
}

/**
 * Authenticates a request by its Authorization header (pass it as the framework gives it: a
 * repeated header arrives as an array and is refused).
 */
export async function authenticateRequest(
  verifier: Verifier,
  authorization: string | readonly string[] | null | undefined,
): Promise<AuthenticationResult> {
  if (authorization === undefined || authorization === null || authorization === '') {
    return unauthenticated(null);
  }
  if (typeof authorization !== 'string') {
    return unauthenticated(new VerifierError('token_invalid', 'several Authorization headers'));
  }
  const token = bearerCredentials(authorization);
  // Another scheme (Basic, DPoP...) presents no Bearer token: the bare challenge says which to use.
  if (token === null) return unauthenticated(null);
  if (token === '') {
    return unauthenticated(new VerifierError('token_invalid', 'malformed Bearer credentials'));
  }
  const result = await verifier.verify(token);
  if (result.ok) return result;
  if (TOKEN_ERROR_CODES.has(result.error.code)) return unauthenticated(result.error);
  return {
    ok: false,
    status: 503,
    headers: { 'content-type': PROBLEM_JSON, 'retry-after': RETRY_AFTER_SECONDS },
    body: UNAVAILABLE,
    error: result.error,
  };
}
