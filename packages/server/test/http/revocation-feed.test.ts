// The revocation feed: every kind of revocation becomes a sequenced event, readable page by page
// and as a resumable Server-Sent Events stream, by resource servers only.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { validateConfig } from '../../src/config/load.js';
import { startServer, type RunningServer } from '../../src/server.js';
import {
  PASSWORD,
  json,
  passwordGrant,
  signUp,
  signUpAdmin,
  startTestServer,
  type TestServer,
} from '../support/harness.js';

const RS_SECRET = 'resource-server-secret-of-at-least-32-bytes';
const BASIC = `Basic ${Buffer.from(`orders:${RS_SECRET}`).toString('base64')}`;

interface FeedEvent {
  seq: number;
  kind: 'session' | 'user' | 'token';
  id: string;
  at: string;
  until: string;
}

describe('GET /v1/revocations', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ resourceServers: [{ id: 'orders', secret: RS_SECRET }] });
  });
  after(() => server.close());

  const page = async (after?: string) => {
    const response = await server.app.inject({
      method: 'GET',
      url: after === undefined ? '/v1/revocations' : `/v1/revocations?after=${after}`,
      headers: { authorization: BASIC },
    });
    assert.equal(response.statusCode, 200, response.body);
    return json(response) as unknown as { events: FeedEvent[]; cursor: string };
  };

  it('needs a resource-server credential', async () => {
    for (const authorization of [undefined, 'Basic b3JkZXJzOndyb25n', 'Bearer x']) {
      const response = await server.app.inject({
        method: 'GET',
        url: '/v1/revocations',
        headers: authorization ? { authorization } : {},
      });
      assert.equal(response.statusCode, 401);
      assert.equal(response.headers['www-authenticate'], 'Basic realm="latchkey"');
    }
  });

  it('records every kind of revocation, in order, with until', async () => {
    const start = (await page()).cursor;
    const admin = await signUpAdmin(server);
    const user = await signUp(server);
    const pair = await passwordGrant(server, user.email, 'app');
    const jwtToken = (await passwordGrant(server, user.email, 'api')).access_token;

    await server.app.inject({
      method: 'POST',
      url: '/v1/token/revoke',
      payload: { token: jwtToken },
    });
    await server.app.inject({
      method: 'DELETE',
      url: `/v1/sessions/${pair.session_id}`,
      headers: { authorization: `Bearer ${pair.access_token}` },
    });
    await server.app.inject({
      method: 'POST',
      url: `/v1/admin/users/${user.id}/ban`,
      headers: { authorization: `Bearer ${admin.token}` },
    });

    const { events, cursor } = await page(start);
    assert.deepEqual(
      events.map((e) => [e.kind, e.id]),
      [
        [
          'token',
          (
            JSON.parse(Buffer.from(jwtToken.split('.')[1]!, 'base64url').toString()) as {
              jti: string;
            }
          ).jti,
        ],
        ['session', pair.session_id],
        ['user', user.id],
      ],
    );
    for (let i = 1; i < events.length; i++) assert.ok(events[i]!.seq > events[i - 1]!.seq);
    for (const event of events) {
      assert.ok(Date.parse(event.until) > Date.parse(event.at) - 1000);
      assert.match(event.at, /Z$/);
    }
    assert.equal(cursor, String(events.at(-1)!.seq));
    assert.deepEqual((await page(cursor)).events, []);
  });

  it('moves the user epoch on password change and on log out everywhere', async () => {
    const start = (await page()).cursor;
    const user = await signUp(server);
    const pair = await passwordGrant(server, user.email, 'api');
    await server.app.inject({
      method: 'POST',
      url: '/v1/me/password',
      headers: { authorization: `Bearer ${pair.access_token}` },
      payload: { currentPassword: PASSWORD, newPassword: 'a brand new passphrase for me' },
    });
    const again = await passwordGrant(server, user.email, 'api', 'a brand new passphrase for me');
    server.clock.advance(1000);
    await server.app.inject({
      method: 'DELETE',
      url: '/v1/sessions',
      headers: { authorization: `Bearer ${again.access_token}` },
    });
    const kinds = (await page(start)).events.filter((e) => e.id === user.id).map((e) => e.kind);
    assert.deepEqual(kinds, ['user', 'user']);
  });

  it('refuses a malformed cursor', async () => {
    for (const after of ['abc', '-1', '1e3', '9999999999999999']) {
      const response = await server.app.inject({
        method: 'GET',
        url: `/v1/revocations?after=${after}`,
        headers: { authorization: BASIC },
      });
      assert.equal(response.statusCode, 400, after);
    }
  });
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** A minimal SSE reader over fetch: collects events and the last id. */
class EventReader {
  readonly events: Array<{ id: string; data: FeedEvent }> = [];
  comments = 0;
  private readonly controller = new AbortController();
  private buffer = '';

  static async open(url: string, lastEventId?: string): Promise<EventReader> {
    const reader = new EventReader();
    const response = await fetch(url, {
      headers: { authorization: BASIC, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
      signal: reader.controller.signal,
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    void reader.pump(response.body!);
    return reader;
  }

  private async pump(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of body) {
        this.buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = this.buffer.indexOf('\n\n')) >= 0) {
          const block = this.buffer.slice(0, end);
          this.buffer = this.buffer.slice(end + 2);
          if (block.startsWith(':')) this.comments++;
          const id = /^id: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (id !== undefined && data !== undefined) {
            this.events.push({ id, data: JSON.parse(data) as FeedEvent });
          }
        }
      }
    } catch {
      // aborted
    }
  }

  async waitFor(predicate: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 5000;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  close(): void {
    this.controller.abort();
  }
}

describe('GET /v1/revocations/stream', () => {
  let server: RunningServer;
  let dataDir: string;
  let base: string;
  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'latchkey-feed-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const config = validateConfig(
      {
        port,
        issuer: base,
        dataDir,
        logLevel: 'silent',
        resourceServers: [{ id: 'orders', secret: RS_SECRET }],
      },
      {},
    );
    server = await startServer(config, { http: { streamHeartbeatMs: 50 } });
  });
  after(async () => {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function newSession(): Promise<{ sessionId: string; access: string }> {
    const email = `feed-${Date.now()}-${Math.random()}@example.test`;
    await fetch(`${base}/v1/accounts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: PASSWORD }),
    });
    const response = await fetch(`${base}/v1/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'password',
        username: email,
        password: PASSWORD,
        client_id: 'app',
      }),
    });
    const body = (await response.json()) as { session_id: string; access_token: string };
    return { sessionId: body.session_id, access: body.access_token };
  }

  const logout = (session: { sessionId: string; access: string }) =>
    fetch(`${base}/v1/sessions/${session.sessionId}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${session.access}` },
    });

  it('streams live revocations with heartbeats and resumes without losing any', async () => {
    const first = await newSession();
    await logout(first);
    const stream = await EventReader.open(`${base}/v1/revocations/stream`);
    // The backlog comes first: a fresh follower learns the live revocations.
    await stream.waitFor(() => stream.events.some((e) => e.data.id === first.sessionId), 'backlog');

    const second = await newSession();
    await logout(second);
    await stream.waitFor(
      () => stream.events.some((e) => e.data.id === second.sessionId),
      'live event',
    );
    await stream.waitFor(() => stream.comments >= 2, 'heartbeats');
    const lastId = stream.events.at(-1)!.id;
    stream.close();

    // Revoked while nobody listened.
    const third = await newSession();
    await logout(third);
    const resumed = await EventReader.open(`${base}/v1/revocations/stream`, lastId);
    await resumed.waitFor(
      () => resumed.events.some((e) => e.data.id === third.sessionId),
      'missed event',
    );
    assert.equal(
      resumed.events.some((e) => e.data.id === first.sessionId),
      false,
      'resuming does not replay from the start',
    );
    const seqs = resumed.events.map((e) => e.data.seq);
    assert.deepEqual(
      seqs,
      [...new Set(seqs)].sort((a, b) => a - b),
    );
    resumed.close();
  });

  it('refuses a stream without credentials', async () => {
    const response = await fetch(`${base}/v1/revocations/stream`);
    assert.equal(response.status, 401);
  });
});
