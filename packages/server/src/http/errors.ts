// The one place that turns failures into HTTP answers: problem+json (RFC 9457) on the API, the
// RFC 6749 shape on the OAuth endpoints. Causes, stacks and internal detail go to the log with
// the request ID, never to the client.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import {
  DependencyUnavailableError,
  OAuthError,
  ProblemError,
  type ProblemCode,
} from '../core/errors.js';

export type ErrorShape = 'problem' | 'oauth';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** How this route answers errors. */
    errorShape?: ErrorShape;
  }
}

/** Fastify's own client-error codes and what they mean in Latchkey's registry. */
const FRAMEWORK_ERRORS: Record<string, ProblemCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'validation_failed',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'validation_failed',
  FST_ERR_CTP_INVALID_JSON_BODY: 'validation_failed',
  FST_ERR_VALIDATION: 'validation_failed',
  FST_ERR_BAD_URL: 'validation_failed',
  FST_ERR_MAX_PARAM_LENGTH: 'not_found',
};

function toProblem(error: unknown): ProblemError | null {
  if (error instanceof ProblemError) return error;
  // Fail closed, and say so: the client may retry; nothing was skipped.
  if (error instanceof DependencyUnavailableError) {
    return new ProblemError('service_unavailable', `${error.dependency} is unavailable`, {
      'retry-after': '1',
    });
  }
  const fastifyError = error as Partial<FastifyError> & { validation?: unknown };
  if (fastifyError.validation !== undefined) {
    return new ProblemError('validation_failed', fastifyError.message);
  }
  const code = fastifyError.code !== undefined ? FRAMEWORK_ERRORS[fastifyError.code] : undefined;
  if (code) return new ProblemError(code);
  // Body parse failures (malformed JSON, `__proto__` keys) carry a 4xx status and no code we know.
  if (
    error instanceof SyntaxError ||
    (typeof fastifyError.statusCode === 'number' &&
      fastifyError.statusCode >= 400 &&
      fastifyError.statusCode < 500)
  ) {
    if (fastifyError.statusCode === 413) return new ProblemError('payload_too_large');
    if (fastifyError.statusCode === 415) return new ProblemError('unsupported_media_type');
    return new ProblemError('validation_failed', 'the request body could not be parsed');
  }
  return null;
}

function toOAuth(error: unknown, problem: ProblemError | null): OAuthError | null {
  if (error instanceof OAuthError) return error;
  if (!problem) return null;
  // These keep their own status and problem body on every route.
  const keepsProblemShape: readonly ProblemCode[] = [
    'payload_too_large',
    'unsupported_media_type',
    'service_unavailable',
    'rate_limited',
  ];
  if (keepsProblemShape.includes(problem.code)) return null;
  if (problem.code === 'unauthenticated') return new OAuthError('invalid_client', problem.detail);
  return new OAuthError('invalid_request', problem.detail);
}

export function sendProblem(reply: FastifyReply, problem: ProblemError): FastifyReply {
  return reply
    .code(problem.status)
    .headers(problem.headers)
    .type('application/problem+json')
    .send({
      // A URN, not a URL: no documentation host to keep alive or to be squatted.
      type: `urn:latchkey:problem:${problem.code}`,
      title: problem.title,
      status: problem.status,
      code: problem.code,
      ...(problem.detail !== undefined ? { detail: problem.detail } : {}),
    });
}

export function handleError(
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const shape = request.routeOptions.config.errorShape ?? 'problem';
  const problem = toProblem(error);
  if (error instanceof DependencyUnavailableError) {
    request.log.warn({ err: error.cause, dependency: error.dependency }, 'dependency unavailable');
  }

  if (shape === 'oauth') {
    const oauth = toOAuth(error, problem);
    if (oauth) {
      return reply
        .code(oauth.status)
        .headers(oauth.headers)
        .header('cache-control', 'no-store')
        .send({
          error: oauth.code,
          ...(oauth.description !== undefined ? { error_description: oauth.description } : {}),
        });
    }
  }
  if (problem) return sendProblem(reply, problem);

  // Anything else is our fault: log it with the request ID, answer generically.
  request.log.error({ err: error }, 'request failed');
  return sendProblem(
    reply,
    new ProblemError('internal_error', `request ${String(request.id)} failed; the log has details`),
  );
}
