// JWKS, RFC 8414 metadata, and the operational endpoints.
import type { LatchkeyServices } from '../../latchkey.js';
import { ProblemError } from '../../core/errors.js';
import type { Metrics } from '../metrics.js';
import type { RouteHandler } from '../route-types.js';

/** Verifiers refetch on an unknown `kid`, so a short cache only bounds polling. */
const JWKS_CACHE = 'public, max-age=300, stale-while-revalidate=60';

export function jwks(services: Pick<LatchkeyServices, 'keys'>): RouteHandler {
  return {
    handle({ reply }) {
      void reply.header('cache-control', JWKS_CACHE);
      return Promise.resolve(services.keys.jwks());
    },
  };
}

export function authorizationServerMetadata(
  services: Pick<LatchkeyServices, 'config'>,
): RouteHandler {
  const issuer = services.config.issuer;
  const metadata = {
    issuer,
    token_endpoint: `${issuer}/v1/token`,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    revocation_endpoint: `${issuer}/v1/token/revoke`,
    introspection_endpoint: `${issuer}/v1/token/introspect`,
    grant_types_supported: ['password', 'refresh_token'],
    response_types_supported: [],
    token_endpoint_auth_methods_supported: ['none'],
    revocation_endpoint_auth_methods_supported: ['none'],
    introspection_endpoint_auth_methods_supported: ['client_secret_basic'],
  };
  return {
    handle({ reply }) {
      void reply.header('cache-control', 'public, max-age=3600');
      return Promise.resolve(metadata);
    },
  };
}

export function healthz(): RouteHandler {
  return { handle: () => Promise.resolve({ status: 'ok' }) };
}

export function readyz(services: Pick<LatchkeyServices, 'storage' | 'redis'>): RouteHandler {
  return {
    async handle() {
      try {
        await services.storage.ping();
      } catch {
        throw new ProblemError('service_unavailable', 'storage is unreachable');
      }
      try {
        await services.redis?.sessionCache.ping();
      } catch {
        throw new ProblemError('service_unavailable', 'redis is unreachable');
      }
      return { status: 'ready' };
    },
  };
}

export function metricsEndpoint(metrics: Metrics): RouteHandler {
  return {
    async handle({ reply }) {
      return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    },
  };
}
