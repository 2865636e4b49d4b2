// Prometheus metrics, one registry per server instance (tests run several in one process).
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import { RequestMetrics, type RouteMetrics } from './request-metrics.js';

export type { RouteMetrics } from './request-metrics.js';

export class Metrics {
  readonly registry = new Registry();
  private readonly requests = new RequestMetrics(this.registry);
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

  /** The request counter and latency histogram of one route (its pattern, or `unmatched`). */
  route(route: string): RouteMetrics {
    return this.requests.route(route);
  }

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }
}
