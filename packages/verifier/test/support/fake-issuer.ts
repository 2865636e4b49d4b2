// An in-process stand-in for Latchkey's public surface, under the test's control: a JWKS of keys
// generated here, GET /v1/revocations (paged, cursor = last seq) and the SSE stream (resumable by
// Last-Event-ID), each with switches to refuse, hang or misbehave.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  SignJWT,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';

export const AUDIENCE = 'https://api.example.test';
export const CREDENTIAL = { id: 'rs-test', secret: 'rs-secret-0123456789-0123456789-abcdef' };

export interface FakeKey {
  readonly kid: string;
  readonly alg: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly publicJwk: JWK;
}

export interface FeedEvent {
  readonly seq: number;
  readonly kind: string;
  readonly id: string;
  readonly at: string;
  readonly until: string;
}

export interface StreamRequest {
  readonly lastEventId: string | undefined;
  readonly authorization: string | undefined;
  /** Seqs sent on this connection, in order. */
  readonly sent: number[];
}

type Mode = 'ok' | 'refuse' | 'not_found' | 'hang';
/** Pages only: 'empty' answers no events, as if nothing had happened since `after`. */
type PageMode = Mode | 'empty';

export class FakeIssuer {
  readonly keys: FakeKey[] = [];
  /** kids served in the JWKS (a key may be kept for signing but unpublished). */
  readonly published = new Set<string>();
  /** Extra raw entries appended to the JWKS, to test what the verifier skips. */
  extraJwks: unknown[] = [];
  jwksMode: Mode = 'ok';
  jwksRequests = 0;

  readonly events: FeedEvent[] = [];
  pageSize = 1000;
  pageMode: PageMode = 'ok';
  pageRequests: (string | undefined)[] = [];
  streamMode: Mode = 'ok';
  readonly streamRequests: StreamRequest[] = [];
  /** Deliver every replayed event twice (as after a reconnect race). */
  duplicateReplay = false;

  private readonly streams = new Set<{ response: ServerResponse; sent: number[] }>();
  private readonly sockets = new Set<Socket>();
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<FakeIssuer> {
    const holder: { issuer?: FakeIssuer } = {};
    const server = createServer((request, response) => holder.issuer!.handle(request, response));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const issuer = new FakeIssuer(server, `http://127.0.0.1:${port}`);
    holder.issuer = issuer;
    server.on('connection', (socket) => {
      issuer.sockets.add(socket);
      socket.on('close', () => issuer.sockets.delete(socket));
    });
    await issuer.addKey();
    return issuer;
  }

  async addKey(alg: 'EdDSA' | 'ES256' | 'RS256' = 'EdDSA', publish = true): Promise<FakeKey> {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const jwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(jwk);
    const key: FakeKey = {
      kid,
      alg,
      privateKey,
      publicKey,
      publicJwk: { ...jwk, kid, alg, use: 'sig' },
    };
    this.keys.push(key);
    if (publish) this.published.add(kid);
    return key;
  }

  /** The newest published key: what signs by default. */
  get currentKey(): FakeKey {
    return this.keys.filter((k) => this.published.has(k.kid)).at(-1)!;
  }

  /** Claims as Latchkey issues them, at `nowMs`, overridable (undefined removes a claim). */
  claims(nowMs: number, overrides: Record<string, unknown> = {}): JWTPayload {
    const iat = Math.floor(nowMs / 1000);
    const claims: Record<string, unknown> = {
      iss: this.url,
      sub: 'user-1',
      aud: AUDIENCE,
      exp: iat + 900,
      iat,
      jti: randomBytes(16).toString('base64url'),
      client_id: 'app',
      sid: 'session-1',
      roles: ['member'],
      ...overrides,
    };
    for (const [name, value] of Object.entries(claims))
      if (value === undefined) delete claims[name];
    return claims;
  }

  async sign(
    nowMs: number,
    overrides: Record<string, unknown> = {},
    options: {
      key?: FakeKey;
      header?: Record<string, unknown>;
      /** Extension header parameters the signer must accept in `crit`. */
      crit?: Record<string, boolean>;
    } = {},
  ): Promise<string> {
    const key = options.key ?? this.currentKey;
    const header = { alg: key.alg, kid: key.kid, typ: 'at+jwt', ...options.header };
    for (const [name, value] of Object.entries(header)) {
      if (value === undefined) delete (header as Record<string, unknown>)[name];
    }
    return new SignJWT(this.claims(nowMs, overrides))
      .setProtectedHeader(header)
      .sign(key.privateKey, options.crit ? { crit: options.crit } : {});
  }

  /** Appends a revocation and pushes it to every open stream. */
  revoke(kind: string, id: string, times: { at: number; until: number }): FeedEvent {
    const event: FeedEvent = {
      seq: this.events.length + 1,
      kind,
      id,
      at: new Date(times.at).toISOString(),
      until: new Date(times.until).toISOString(),
    };
    this.events.push(event);
    for (const stream of this.streams) this.send(stream, event);
    return event;
  }

  /** Writes raw text to every open stream (to test malformed input). */
  writeRaw(text: string): void {
    for (const { response } of this.streams) response.write(text);
  }

  heartbeat(): void {
    this.writeRaw(': heartbeat\n\n');
  }

  get openStreams(): number {
    return this.streams.size;
  }

  /** Cuts every connection (streams included) without a proper end, like a crash. */
  killConnections(): void {
    this.streams.clear();
    for (const socket of this.sockets) socket.destroy();
  }

  async close(): Promise<void> {
    this.killConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private authorized(request: IncomingMessage): boolean {
    const expected = `Basic ${Buffer.from(`${CREDENTIAL.id}:${CREDENTIAL.secret}`).toString('base64')}`;
    return request.headers.authorization === expected;
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? '/', this.url);
    if (url.pathname === '/.well-known/jwks.json') return this.serveJwks(response);
    if (url.pathname === '/v1/revocations') return this.servePage(request, response, url);
    if (url.pathname === '/v1/revocations/stream') return this.serveStream(request, response);
    response.writeHead(404).end();
  }

  private refuse(mode: Mode, response: ServerResponse): boolean {
    if (mode === 'ok') return false;
    if (mode === 'hang') return true;
    response.writeHead(mode === 'not_found' ? 404 : 503).end();
    return true;
  }

  private serveJwks(response: ServerResponse): void {
    this.jwksRequests++;
    if (this.refuse(this.jwksMode, response)) return;
    const keys = this.keys.filter((k) => this.published.has(k.kid)).map((k) => k.publicJwk);
    response
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ keys: [...keys, ...this.extraJwks] }));
  }

  private servePage(request: IncomingMessage, response: ServerResponse, url: URL): void {
    const after = url.searchParams.get('after') ?? undefined;
    this.pageRequests.push(after);
    if (this.pageMode !== 'empty' && this.refuse(this.pageMode, response)) return;
    if (!this.authorized(request)) {
      response.writeHead(401, { 'www-authenticate': 'Basic realm="latchkey"' }).end();
      return;
    }
    const from = after === undefined ? 0 : Number(after);
    const page =
      this.pageMode === 'empty'
        ? []
        : this.events.filter((e) => e.seq > from).slice(0, this.pageSize);
    const cursor = page.length > 0 ? page[page.length - 1]!.seq : from;
    response
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ events: page, cursor: String(cursor) }));
  }

  private serveStream(request: IncomingMessage, response: ServerResponse): void {
    const lastEventId = request.headers['last-event-id'] as string | undefined;
    const record: StreamRequest = {
      lastEventId,
      authorization: request.headers.authorization,
      sent: [],
    };
    this.streamRequests.push(record);
    if (this.refuse(this.streamMode, response)) return;
    if (!this.authorized(request)) {
      response.writeHead(401).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
    response.write('retry: 1000\n\n');
    const stream = { response, sent: record.sent };
    const from = lastEventId === undefined ? 0 : Number(lastEventId);
    for (const event of this.events.filter((e) => e.seq > from)) {
      this.send(stream, event);
      if (this.duplicateReplay) this.send(stream, event);
    }
    this.streams.add(stream);
    response.on('close', () => this.streams.delete(stream));
  }

  private send(stream: { response: ServerResponse; sent: number[] }, event: FeedEvent): void {
    stream.sent.push(event.seq);
    stream.response.write(
      `id: ${event.seq}\nevent: revocation\ndata: ${JSON.stringify(event)}\n\n`,
    );
  }
}

/** Polls `condition` every few ms (real I/O needs real time) until true or `timeoutMs` passes. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 3000,
  what = 'condition',
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A clock the test moves by hand. */
export class ManualClock {
  constructor(public ms: number = Math.floor(Date.now() / 1000) * 1000) {}
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}
