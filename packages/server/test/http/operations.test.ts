// Operational endpoints: liveness, readiness and Prometheus metrics that count what happened.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  PASSWORD,
  json,
  passwordGrant,
  refresh,
  signUp,
  startTestServer,
  uniqueEmail,
  type TestServer,
} from '../support/harness.js';

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The samples of a Prometheus text exposition (comments skipped). */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(match, `not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1]!] = pair[2]!;
    }
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The sum of the samples of `name` whose labels include `labels`. */
function total(samples: readonly Sample[], name: string, labels: Record<string, string> = {}) {
  return samples
    .filter((s) => s.name === name)
    .filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

describe('operations endpoints', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ tokens: { refreshReuseGrace: '10s' } });
  });
  after(() => server.close());

  async function scrape() {
    const response = await server.app.inject({ url: '/metrics' });
    assert.equal(response.statusCode, 200);
    return { text: response.body, samples: parseExposition(response.body), response };
  }

  it('GET /healthz answers 200 without authentication', async () => {
    const response = await server.app.inject({ url: '/healthz' });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(json(response), { status: 'ok' });
  });

  it('GET /readyz answers 200 while storage answers', async () => {
    const response = await server.app.inject({ url: '/readyz' });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(json(response), { status: 'ready' });
  });

  it('GET /metrics is Prometheus text with every Latchkey metric declared', async () => {
    const { text, response } = await scrape();
    assert.match(String(response.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    for (const [name, type] of [
      ['latchkey_http_requests_total', 'counter'],
      ['latchkey_http_request_duration_seconds', 'histogram'],
      ['latchkey_logins_total', 'counter'],
      ['latchkey_refreshes_total', 'counter'],
      ['latchkey_refresh_token_reuse_total', 'counter'],
      ['latchkey_revocations_total', 'counter'],
    ]) {
      assert.match(text, new RegExp(`^# HELP ${name} \\S`, 'm'), name);
      assert.match(text, new RegExp(`^# TYPE ${name} ${type}$`, 'm'), name);
    }
  });

  it('counts requests by method, route pattern and status', async () => {
    const before = (await scrape()).samples;
    const user = await signUp(server);
    await signUp(server, uniqueEmail());
    const bad = await server.app.inject({
      method: 'POST',
      url: '/v1/accounts',
      payload: { email: user.email, password: PASSWORD },
    });
    assert.equal(bad.statusCode, 409);
    const pair = await passwordGrant(server, user.email);
    const deleted = await server.app.inject({
      method: 'DELETE',
      url: `/v1/sessions/${pair.session_id!}`,
      headers: { authorization: `Bearer ${pair.access_token}` },
    });
    assert.equal(deleted.statusCode, 204);
    const stray = `/no-such-page-${randomUUID()}`;
    assert.equal((await server.app.inject({ url: stray })).statusCode, 404);

    const { text, samples } = await scrape();
    const requests = 'latchkey_http_requests_total';
    const delta = (labels: Record<string, string>) =>
      total(samples, requests, labels) - total(before, requests, labels);
    assert.equal(delta({ method: 'POST', route: '/v1/accounts', status: '201' }), 2);
    assert.equal(delta({ method: 'POST', route: '/v1/accounts', status: '409' }), 1);
    assert.equal(delta({ method: 'POST', route: '/v1/token', status: '200' }), 1);
    // Path parameters and unknown paths do not become labels (bounded cardinality).
    assert.equal(delta({ method: 'DELETE', route: '/v1/sessions/:id', status: '204' }), 1);
    assert.equal(delta({ method: 'GET', route: 'unmatched', status: '404' }), 1);
    assert.equal(text.includes(pair.session_id!), false);
    assert.equal(text.includes(stray), false);
    assert.equal(text.includes(user.email), false);
    assert.ok(
      total(samples, 'latchkey_http_request_duration_seconds_count', { route: '/v1/accounts' }) >=
        3,
    );
  });

  it('counts logins, refreshes, reuse and revocations', async () => {
    const before = (await scrape()).samples;
    const user = await signUp(server);
    const pair = await passwordGrant(server, user.email);
    const wrong = await server.app.inject({
      method: 'POST',
      url: '/v1/token',
      payload: {
        grant_type: 'password',
        username: user.email,
        password: 'not the password at all',
        client_id: 'app',
      },
    });
    assert.equal(wrong.statusCode, 400);
    await passwordGrant(server, user.email, 'api');

    const rotated = await refresh(server, pair.refresh_token!);
    assert.equal(rotated.statusCode, 200);
    server.clock.advance(10_001);
    // The parent after the grace window: reuse, the family is revoked.
    assert.equal((await refresh(server, pair.refresh_token!)).statusCode, 400);
    assert.equal((await refresh(server, json(rotated)['refresh_token'] as string)).statusCode, 400);

    const { samples, text } = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) =>
      total(samples, name, labels) - total(before, name, labels);
    assert.equal(delta('latchkey_logins_total', { strategy: 'hybrid', result: 'succeeded' }), 1);
    assert.equal(delta('latchkey_logins_total', { strategy: 'hybrid', result: 'failed' }), 1);
    assert.equal(delta('latchkey_logins_total', { strategy: 'jwt', result: 'succeeded' }), 1);
    assert.equal(delta('latchkey_refreshes_total', { result: 'rotated' }), 1);
    assert.equal(delta('latchkey_refreshes_total', { result: 'refused' }), 2);
    assert.equal(delta('latchkey_refresh_token_reuse_total'), 1);
    assert.equal(delta('latchkey_revocations_total', { kind: 'session' }), 1);
    for (const secret of [pair.access_token, pair.refresh_token!, PASSWORD]) {
      assert.equal(text.includes(secret), false);
    }
  });

  it('counts an access-token revocation by kind', async () => {
    const before = (await scrape()).samples;
    const user = await signUp(server);
    const pair = await passwordGrant(server, user.email, 'api');
    const response = await server.app.inject({
      method: 'POST',
      url: '/v1/token/revoke',
      payload: { token: pair.access_token },
    });
    assert.equal(response.statusCode, 200);
    const { samples } = await scrape();
    const name = 'latchkey_revocations_total';
    assert.equal(
      total(samples, name, { kind: 'token' }) - total(before, name, { kind: 'token' }),
      1,
    );
  });
});
