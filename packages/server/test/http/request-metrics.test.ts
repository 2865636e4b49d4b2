// The HTTP request metrics keep their own numbers but must read, in the exposition, exactly as
// prom-client's Counter and Histogram would for the same requests.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter, Histogram, Registry } from 'prom-client';
import { RequestMetrics } from '../../src/http/request-metrics.js';

const REQUESTS: Array<[method: string, route: string, status: number, seconds: number]> = [
  ['GET', '/v1/me', 200, 0.0002],
  ['GET', '/v1/me', 200, 0.0005],
  ['GET', '/v1/me', 401, 0.0031],
  ['POST', '/v1/token', 200, 0.012],
  ['POST', '/v1/token', 400, 2.5],
  ['GET', 'unmatched', 404, 0.00099],
  ['GET', '/v1/me', 200, 1],
];

void describe('request metrics', () => {
  void it('expose the same counter and histogram text as prom-client for the same requests', async () => {
    const ours = new Registry();
    const metrics = new RequestMetrics(ours);
    const routes = new Map<string, ReturnType<RequestMetrics['route']>>();
    for (const [method, route, status, seconds] of REQUESTS) {
      if (!routes.has(route)) routes.set(route, metrics.route(route));
      routes.get(route)!.observe(method, status, seconds);
    }

    const theirs = new Registry();
    const counter = new Counter({
      name: 'latchkey_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['method', 'route', 'status'],
      registers: [theirs],
    });
    const histogram = new Histogram({
      name: 'latchkey_http_request_duration_seconds',
      help: 'HTTP request latency by route',
      labelNames: ['method', 'route'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [theirs],
    });
    for (const [method, route, status, seconds] of REQUESTS) {
      counter.labels(method, route, String(status)).inc();
      histogram.labels(method, route).observe(seconds);
    }

    assert.equal(await ours.metrics(), await theirs.metrics());
    assert.deepEqual(
      (await ours.getMetricsAsJSON()).map((m) => [m.name, m.type]),
      (await theirs.getMetricsAsJSON()).map((m) => [m.name, m.type]),
    );
  });
});
