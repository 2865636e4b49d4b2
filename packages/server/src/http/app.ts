// The Fastify application: registers the route table with its auth, CSRF and error rules.
import { randomUUID } from 'node:crypto';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type onResponseHookHandler,
} from 'fastify';
import type { Logger } from 'pino';
import type { LatchkeyServices } from '../latchkey.js';
import { OAuthError, ProblemError, rateLimited } from '../core/errors.js';
import {
  Authenticator,
  CookieRejected,
  authenticateResourceServer,
  type Principal,
} from './authenticate.js';
import { OpenStreams } from './handlers/revocation-feed.js';
import { refuseCrossSite, requireCsrfToken } from './csrf.js';
import { handleError, sendProblem } from './errors.js';
import { Metrics, type RouteMetrics } from './metrics.js';
import { routeTable } from './route-table.js';
import type { RouteSpec } from './route-types.js';
import { FloodLimiter } from './rate-limit.js';
import { SessionCookie } from './session-cookie.js';
import { LazyRequestLogger } from './request-logger.js';
import { applyCors } from './cors.js';

/**
 * On every response. The API serves JSON only, so the strictest CSP costs nothing and covers
 * anything a browser might still render; no referrer leaks a URL to another site.
 */
const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
};

/** API.md: bodies over 16 KiB get 413. */
export const BODY_LIMIT = 16 * 1024;

/** Secret-bearing fields that must never reach a log line, wherever they appear. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  '*.password',
  '*.currentPassword',
  '*.newPassword',
  '*.token',
  '*.access_token',
  '*.refresh_token',
  '*.csrfToken',
];

export interface HttpAppOptions {
  /** A pino logger, or `false` for none. */
  readonly logger?: Logger | false;
  readonly metrics?: Metrics;
  /** Heartbeat interval of revocation streams (default 15 s). */
  readonly streamHeartbeatMs?: number;
}

export function buildHttpApp(
  services: LatchkeyServices,
  options: HttpAppOptions = {},
): FastifyInstance {
  const metrics = options.metrics ?? new Metrics();
  // Unknown paths, and URLs Fastify cannot even route (a bad escape), share one label so that
  // probing cannot grow the metrics without bound.
  const unmatched = metrics.route('unmatched');
  const stopCountingRevocations = services.revocationHub.subscribe((event) =>
    metrics.revocations.inc({ kind: event.kind }),
  );
  const app = Fastify({
    bodyLimit: BODY_LIMIT,
    ...(options.logger
      ? {
          loggerInstance: options.logger,
          childLoggerFactory: (parent: FastifyBaseLogger, bindings, childOptions) =>
            new LazyRequestLogger(parent as Logger, bindings, childOptions),
        }
      : { logger: false }),
    genReqId: () => randomUUID(),
    // A client-chosen request ID could forge log lines; always make our own.
    requestIdHeader: false,
    return503OnClosing: true,
    // X-Forwarded-For is believed only through hops from configured proxies: on a direct
    // connection a spoofed header changes nothing.
    trustProxy: services.config.trustProxy === false ? false : [...services.config.trustProxy],
    // Malformed URLs (a bad `%` escape, an over-long parameter) get Latchkey's own answers, not
    // Fastify's defaults.
    frameworkErrors: (error, request, reply) => {
      countOnFinish(unmatched, request, reply);
      secureAnswer(request, reply);
      void handleError(error, request, reply);
    },
    ajv: {
      customOptions: {
        // Unknown fields are an error (API.md), not something to strip silently.
        removeAdditional: false,
        coerceTypes: false,
        useDefaults: false,
        allErrors: false,
      },
    },
  }) as unknown as FastifyInstance;

  const cookie = new SessionCookie(services.config);
  const authenticator = new Authenticator({ ...services, cookie });
  const allowedOrigins = new Set([
    new URL(services.config.issuer).origin,
    ...services.config.clients.flatMap((c) => c.allowedOrigins),
  ]);

  /**
   * Security and CORS headers, for every answer. Set where each answer starts (the route wrapper,
   * the error, not-found and preflight handlers) rather than in an onRequest hook: a global hook
   * costs every request a hook-runner pass, a measurable share of a cached GET /v1/me.
   */
  function secureAnswer(request: FastifyRequest, reply: FastifyReply): void {
    void reply.headers(SECURITY_HEADERS);
    applyCors(request, reply, allowedOrigins);
  }
  // CORS preflights: answered for configured origins only; others get no CORS headers at all.
  app.options('*', { onResponse: countResponses(metrics.route('*')) }, (request, reply) => {
    secureAnswer(request, reply);
    return reply.code(204).send();
  });
  // JSON only (and forms on the OAuth endpoints): a text/plain body is how a cross-site form
  // smuggles JSON without a CORS preflight, so it gets 415 rather than a parse.
  app.removeContentTypeParser('text/plain');
  const flood = new FloodLimiter(services.clock, services.config.rateLimits, {
    shared: services.redis?.floodCounts,
  });
  const streams = new OpenStreams();
  // Open event streams would hold `close()` forever: end them first.
  app.addHook('preClose', (done) => {
    streams.endAll();
    done();
  });
  app.addHook('onClose', (_instance, done) => {
    stopCountingRevocations();
    flood.close();
    done();
  });
  app.setErrorHandler((error, request, reply) => {
    secureAnswer(request, reply);
    return handleError(error, request, reply);
  });
  app.setNotFoundHandler((request, reply) => {
    countOnFinish(unmatched, request, reply);
    secureAnswer(request, reply);
    return sendProblem(reply, new ProblemError('not_found'));
  });

  async function authorize(
    spec: RouteSpec,
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<Principal | null> {
    const wait = flood.hit(spec.rateLimit, request.ip);
    if (wait > 0) throw rateLimited(wait);
    if (spec.csrf === 'login') refuseCrossSite(request, allowedOrigins);
    if (spec.auth === 'resource_server' && spec.errors === 'problem') {
      const server = authenticateResourceServer(
        request.headers.authorization,
        services.config.resourceServers,
      );
      if (!server) {
        throw new ProblemError('unauthenticated', 'resource-server credentials required', {
          'www-authenticate': 'Basic realm="latchkey"',
        });
      }
      return null;
    }
    if (spec.auth !== 'user' && spec.auth !== 'admin') return null;
    let principal: Principal;
    try {
      principal = await authenticator.authenticate(request);
    } catch (error) {
      // A dead or unknown session cookie is cleared so the browser stops sending it.
      if (error instanceof CookieRejected) cookie.clear(reply);
      throw error;
    }
    if (spec.csrf === 'cookie' && principal.cookieSession) {
      refuseCrossSite(request, allowedOrigins);
      requireCsrfToken(request, principal.cookieSession.secret);
    }
    if (spec.auth === 'admin' && !principal.user.roles.includes('admin')) {
      throw new ProblemError('forbidden', 'the admin role is required');
    }
    return principal;
  }

  function register(scope: FastifyInstance, spec: RouteSpec): void {
    scope.route({
      method: spec.method,
      url: spec.url,
      ...(spec.handler.schema ? { schema: spec.handler.schema } : {}),
      config: { errorShape: spec.errors },
      // Per route rather than one global hook: the route's labels are bound here, once.
      onResponse: countResponses(metrics.route(spec.url)),
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        secureAnswer(request, reply);
        // No stored text can hold NUL (PostgreSQL refuses it outright) and no legitimate input
        // needs it: refuse it here, before anything reads the request, wherever it appears.
        if (containsNul(request.params) || containsNul(request.query) || containsNul(request.body))
          throw new ProblemError('validation_failed', 'NUL characters are not allowed');
        if (spec.credentials)
          void reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
        const principal = await authorize(spec, request, reply);
        const result = await spec.handler.handle({ request, reply, principal, cookie });
        return reply.sent ? reply : result;
      },
    });
  }

  const table = routeTable(services, metrics, {
    streams,
    heartbeatMs: options.streamHeartbeatMs ?? 15_000,
  });
  // OAuth endpoints live in their own scope: only they accept form bodies (RFC 6749).
  void app.register((scope, _opts, done) => {
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string' },
      (_request, body, parsed) => {
        try {
          parsed(null, parseForm(body as string));
        } catch (error) {
          parsed(error as Error);
        }
      },
    );
    for (const spec of table.filter((s) => s.errors === 'oauth')) register(scope, spec);
    done();
  });
  for (const spec of table.filter((s) => s.errors !== 'oauth')) register(app, spec);
  return app;
}

/** A route-level onResponse hook that counts the route's responses. */
function countResponses(route: RouteMetrics): onResponseHookHandler {
  return (request, reply, done) => {
    route.observe(request.method, reply.statusCode, reply.elapsedTime / 1000);
    done();
  };
}

/** For answers given outside any route (unknown or unroutable URLs): count when sent. */
function countOnFinish(route: RouteMetrics, request: FastifyRequest, reply: FastifyReply): void {
  reply.raw.once('finish', () =>
    route.observe(request.method, reply.statusCode, reply.elapsedTime / 1000),
  );
}

function containsNul(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (value === null || typeof value !== 'object' || depth > 32) return false;
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (key.includes('\u0000') || containsNul(record[key], depth + 1)) return true;
  }
  return false;
}

/** RFC 6749 section 3.2: a parameter may not be repeated. */
function parseForm(body: string): Record<string, string> {
  const result: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [key, value] of new URLSearchParams(body)) {
    if (key in result) throw new OAuthError('invalid_request', `parameter ${key} is repeated`);
    result[key] = value;
  }
  return result;
}
