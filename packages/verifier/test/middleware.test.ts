// The RFC 6750 answers, identical through every adapter: node:http, Express, Fastify and Hono.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { Hono } from 'hono';
import { authenticateRequest, type Verifier } from '../src/index.js';
import { createExpressMiddleware } from '../src/adapters/express.js';
import { createFastifyHook } from '../src/adapters/fastify.js';
import { createHonoMiddleware, type LatchkeyEnv } from '../src/adapters/hono.js';
import { createNodeAuthenticator } from '../src/adapters/node.js';
import { waitFor } from './support/fake-issuer.js';
import { outcome, startFixture, type Fixture } from './support/setup.js';

interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string;
}

interface Adapter {
  readonly name: string;
  start(verifier: Verifier): Promise<void>;
  request(authorization?: string): Promise<Answer>;
  stop(): Promise<void>;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function fetchAnswer(url: string, authorization?: string): Promise<Answer> {
  const response = await fetch(url, {
    headers: authorization === undefined ? {} : { authorization },
  });
  return {
    status: response.status,
    headers: Object.fromEntries(response.headers),
    body: await response.text(),
  };
}

function overHttp(name: string, build: (verifier: Verifier) => Server): Adapter {
  let server: Server;
  let url: string;
  return {
    name,
    async start(verifier) {
      server = build(verifier);
      url = `${await listen(server)}/me`;
    },
    request: (authorization) => fetchAnswer(url, authorization),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const nodeAdapter = overHttp('node:http', (verifier) => {
  const authenticate = createNodeAuthenticator(verifier);
  return createServer((request, response) => {
    void (async () => {
      const claims = await authenticate(request, response);
      if (!claims) return;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ sub: claims.sub }));
    })();
  });
});

const expressAdapter = overHttp('Express', (verifier) => {
  const app = express();
  app.use(createExpressMiddleware(verifier));
  app.get('/me', (request, response) => {
    response.json({ sub: request.latchkey?.sub });
  });
  return createServer(app);
});

function fastifyAdapter(): Adapter {
  let app: FastifyInstance;
  return {
    name: 'Fastify',
    async start(verifier) {
      app = Fastify();
      app.addHook('preHandler', createFastifyHook(verifier));
      app.get('/me', (request, reply) => reply.send({ sub: request.latchkey?.sub }));
      await app.ready();
    },
    async request(authorization) {
      const response = await app.inject({
        method: 'GET',
        url: '/me',
        headers: authorization === undefined ? {} : { authorization },
      });
      return {
        status: response.statusCode,
        headers: Object.fromEntries(
          Object.entries(response.headers).map(([k, v]) => [k, v === undefined ? v : String(v)]),
        ),
        body: response.body,
      };
    },
    stop: () => app.close(),
  };
}

function honoAdapter(): Adapter {
  let app: Hono<LatchkeyEnv>;
  return {
    name: 'Hono',
    start(verifier) {
      app = new Hono<LatchkeyEnv>();
      app.use('*', createHonoMiddleware(verifier));
      app.get('/me', (c) => c.json({ sub: c.get('latchkey').sub }));
      return Promise.resolve();
    },
    async request(authorization) {
      const response = await app.request('/me', {
        headers: authorization === undefined ? {} : { authorization },
      });
      return {
        status: response.status,
        headers: Object.fromEntries(response.headers),
        body: await response.text(),
      };
    },
    stop: () => Promise.resolve(),
  };
}

const UNAUTHENTICATED = {
  type: 'urn:latchkey:problem:unauthenticated',
  title: 'Authentication required',
  status: 401,
  code: 'unauthenticated',
};

for (const adapter of [nodeAdapter, expressAdapter, fastifyAdapter(), honoAdapter()]) {
  describe(`middleware: ${adapter.name}`, () => {
    let f: Fixture;
    let valid: string;
    before(async () => {
      f = await startFixture({ verifier: { maxStaleness: 30_000 } });
      valid = await f.issuer.sign(f.clock.ms, { sub: 'user-7' });
      await adapter.start(f.verifier);
    });
    after(async () => {
      await adapter.stop();
      await f.close();
    });

    const assertChallenge = (answer: Answer, challenge: string) => {
      assert.equal(answer.status, 401);
      assert.equal(answer.headers['www-authenticate'], challenge);
      assert.match(answer.headers['content-type'] ?? '', /^application\/problem\+json/);
      assert.deepEqual(JSON.parse(answer.body), UNAUTHENTICATED);
    };

    it('passes a valid token through with its claims, whatever the scheme case', async () => {
      for (const header of [`Bearer ${valid}`, `bearer ${valid}`, `BEARER  ${valid}`]) {
        const answer = await adapter.request(header);
        assert.equal(answer.status, 200, header.slice(0, 8));
        assert.deepEqual(JSON.parse(answer.body), { sub: 'user-7' });
      }
    });

    it('answers 401 with a bare Bearer challenge when no Bearer token is presented', async () => {
      assertChallenge(await adapter.request(), 'Bearer');
      assertChallenge(await adapter.request('Basic dXNlcjpwYXNz'), 'Bearer');
    });

    it('answers 401 invalid_token with one body whatever is wrong with the token', async () => {
      const expired = await f.issuer.sign(f.clock.ms - 3_600_000);
      const revoked = await f.issuer.sign(f.clock.ms, { sid: `gone-${adapter.name}` });
      f.issuer.revoke('session', `gone-${adapter.name}`, {
        at: f.clock.ms,
        until: f.clock.ms + 3_600_000,
      });
      await waitFor(async () => (await outcome(f.verifier, revoked)) === 'token_revoked');
      const [header, payload] = valid.split('.');
      for (const authorization of [
        'Bearer',
        'Bearer ',
        'Bearer not-a-jwt',
        `Bearer ${valid} extra`,
        `Bearer ${header}.${payload}.`,
        `Bearer ${expired}`,
        `Bearer ${revoked}`,
      ]) {
        assertChallenge(await adapter.request(authorization), 'Bearer error="invalid_token"');
      }
    });

    it('answers 503 with Retry-After, not invalid_token, while failing closed', async () => {
      f.clock.advance(30_001); // the feed has said nothing for longer than maxStaleness
      try {
        const answer = await adapter.request(`Bearer ${valid}`);
        assert.equal(answer.status, 503);
        assert.equal(answer.headers['retry-after'], '5');
        assert.equal(answer.headers['www-authenticate'], undefined);
        assert.equal((JSON.parse(answer.body) as { code: string }).code, 'service_unavailable');
      } finally {
        f.issuer.heartbeat();
        await waitFor(() => f.verifier.status().feed?.staleness === 0);
      }
      assert.equal((await adapter.request(`Bearer ${valid}`)).status, 200);
    });
  });
}

describe('authenticateRequest', () => {
  it('refuses a repeated Authorization header', async () => {
    const f = await startFixture({ feed: false });
    try {
      const token = await f.issuer.sign(f.clock.ms);
      const result = await authenticateRequest(f.verifier, [`Bearer ${token}`, `Bearer ${token}`]);
      assert.ok(!result.ok);
      assert.equal(result.status, 401);
      assert.equal(result.headers['www-authenticate'], 'Bearer error="invalid_token"');
      assert.equal(result.error?.code, 'token_invalid');
      const none = await authenticateRequest(f.verifier, undefined);
      assert.ok(!none.ok);
      assert.equal(none.error, null);
    } finally {
      await f.close();
    }
  });
});
