// The closed registry of error codes Latchkey answers with. Codes are part of the public contract
// (API.md): never rename or reuse one. Expected auth outcomes are values inside the core; these
// classes are thrown at the HTTP edge, where one mapper turns them into responses.

export type ProblemCode =
  | 'validation_failed'
  | 'invalid_credentials'
  | 'unauthenticated'
  | 'session_expired'
  | 'forbidden'
  | 'csrf_failed'
  | 'rate_limited'
  | 'email_taken'
  | 'not_found'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'service_unavailable'
  | 'reauthentication_required'
  | 'internal_error';

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope';

const problemStatus: Record<ProblemCode, number> = {
  validation_failed: 400,
  invalid_credentials: 401,
  unauthenticated: 401,
  session_expired: 401,
  forbidden: 403,
  csrf_failed: 403,
  rate_limited: 429,
  email_taken: 409,
  not_found: 404,
  payload_too_large: 413,
  unsupported_media_type: 415,
  service_unavailable: 503,
  reauthentication_required: 401,
  internal_error: 500,
};

const problemTitle: Record<ProblemCode, string> = {
  validation_failed: 'The request is not valid',
  invalid_credentials: 'Invalid email or password',
  unauthenticated: 'Authentication required',
  session_expired: 'The session has expired',
  forbidden: 'Not allowed',
  csrf_failed: 'Cross-site request refused',
  rate_limited: 'Too many requests',
  email_taken: 'An account with this email already exists',
  not_found: 'Not found',
  payload_too_large: 'The request body is too large',
  unsupported_media_type: 'Unsupported content type',
  service_unavailable: 'Service temporarily unavailable',
  reauthentication_required: 'Please log in again',
  internal_error: 'Internal server error',
};

/** A failure answered as `application/problem+json` (RFC 9457). */
export class ProblemError extends Error {
  readonly status: number;
  readonly title: string;
  /** Extra response headers, e.g. `WWW-Authenticate` or `Retry-After`. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    readonly code: ProblemCode,
    readonly detail?: string,
    headers: Record<string, string> = {},
  ) {
    super(detail ?? problemTitle[code]);
    this.name = 'ProblemError';
    this.status = problemStatus[code];
    this.title = problemTitle[code];
    this.headers = headers;
  }
}

/** A failure on the OAuth endpoints, answered in the RFC 6749 section 5.2 shape. */
export class OAuthError extends Error {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    readonly code: OAuthErrorCode,
    readonly description?: string,
    options: { status?: number; headers?: Record<string, string> } = {},
  ) {
    super(description ?? code);
    this.name = 'OAuthError';
    this.status = options.status ?? (code === 'invalid_client' ? 401 : 400);
    this.headers = options.headers ?? {};
  }
}

/** The one answer for every failed Bearer authentication, whatever the cause (RFC 6750). */
export function invalidBearerToken(): ProblemError {
  return new ProblemError('unauthenticated', undefined, {
    'www-authenticate': 'Bearer error="invalid_token"',
  });
}

/**
 * A dependency (database, Redis) did not answer. Answered 503 `service_unavailable`: the request
 * fails closed rather than skipping a check.
 */
export class DependencyUnavailableError extends Error {
  constructor(
    readonly dependency: string,
    options?: { cause?: unknown },
  ) {
    super(`${dependency} is unavailable`, options);
    this.name = 'DependencyUnavailableError';
  }
}

/** 429 with the wait in whole seconds, rounded up so a client that obeys it is not refused. */
export function rateLimited(retryAfterMs: number): ProblemError {
  return new ProblemError('rate_limited', 'too many attempts; try again later', {
    'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))),
  });
}
