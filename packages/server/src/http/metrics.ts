// Prometheus metrics, one registry per server instance (tests run several in one process).
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'latchkey_http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'latchkey_http_request_duration_seconds',
    help: 'HTTP request latency by route',
    labelNames: ['method', 'route'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });
  readonly logins = new Counter({
    name: 'latchkey_logins_total',
    help: 'Password logins by strategy and result',
    labelNames: ['strategy', 'result'] as const,
    registers: [this.registry],
  });
  readonly refreshes = new Counter({
    name: 'latchkey_refreshes_total',
    help: 'Refresh-token grants by result (rotated or refused)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly refreshReuse = new Counter({
    name: 'latchkey_refresh_token_reuse_total',
    help: 'Refresh-token reuse detections (each revokes a family)',
    registers: [this.registry],
  });
  readonly revocations = new Counter({
    name: 'latchkey_revocations_total',
    help: 'Revocation events by kind (session, user, token)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  /**
   * The request counter and latency histogram of one route (its pattern, or `unmatched`) with
   * its label children kept per method and status: prom-client hashes label sets on every
   * unbound call.
   */
  route(route: string): RouteMetrics {
    const bound = new Map<
      string,
      { count: { inc(): void }; latency: { observe(s: number): void } }
    >();
    return {
      observe: (method, status, seconds) => {
        const key = `${method} ${status}`;
        let children = bound.get(key);
        if (!children) {
          children = {
            count: this.requests.labels(method, route, String(status)),
            latency: this.latency.labels(method, route),
          };
          bound.set(key, children);
        }
        children.count.inc();
        children.latency.observe(seconds);
      },
    };
  }

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }
}

export interface RouteMetrics {
  /** Counts one answered request of the route. */
  observe(method: string, status: number, seconds: number): void;
}
