// The revocation feed for resource servers: a pollable page of events and a Server-Sent Events
// stream, both resumable by cursor. Verifiers apply these to their local revocation state, so
// a logout or ban reaches them without a lookup per request.
import type { ServerResponse } from 'node:http';
import type { FastifyRequest } from 'fastify';
import type { LatchkeyServices } from '../../latchkey.js';
import { ProblemError } from '../../core/errors.js';
import type { RevocationEvent } from '../../core/model.js';
import { safeCursorAfter } from '../../core/revocation-hub.js';
import type { RouteHandler } from '../route-types.js';
import { isoTime } from '../serialize.js';

const PAGE_SIZE = 1000;
const CURSOR = /^\d{1,15}$/;

export function serializeRevocation(event: RevocationEvent) {
  return {
    seq: event.seq,
    kind: event.kind,
    id: event.subjectId,
    at: isoTime(event.at),
    until: isoTime(event.until),
  };
}

function parseCursor(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 0;
  if (!CURSOR.test(raw)) throw new ProblemError('validation_failed', 'the cursor is not valid');
  return Number(raw);
}

function queryCursor(request: FastifyRequest): string | undefined {
  const after = (request.query as Record<string, unknown>)['after'];
  if (after !== undefined && typeof after !== 'string') {
    throw new ProblemError('validation_failed', 'after must appear once');
  }
  return after;
}

export function listRevocations(
  services: Pick<LatchkeyServices, 'storage' | 'clock'>,
): RouteHandler {
  return {
    async handle({ request }) {
      const after = parseCursor(queryCursor(request));
      const events = await services.storage.listRevocations({ after, limit: PAGE_SIZE });
      const cursor = safeCursorAfter(after, events, services.clock.now());
      // Events past a recent sequence hole wait for the next poll, so a cursor never skips one.
      const delivered = events.filter((e) => e.seq <= cursor);
      return { events: delivered.map(serializeRevocation), cursor: String(cursor) };
    },
  };
}

export interface StreamOptions {
  /** Comment lines keep proxies from timing the connection out. */
  readonly heartbeatMs: number;
}

/** Open streams, so that closing the server can end them instead of waiting for them. */
export class OpenStreams {
  private readonly responses = new Set<ServerResponse>();
  add(response: ServerResponse): void {
    this.responses.add(response);
    response.on('close', () => this.responses.delete(response));
  }
  endAll(): void {
    for (const response of this.responses) response.end();
  }
}

export function streamRevocations(
  services: Pick<LatchkeyServices, 'storage' | 'clock' | 'revocationHub'>,
  streams: OpenStreams,
  options: StreamOptions,
): RouteHandler {
  return {
    async handle({ request, reply }) {
      const lastEventId = request.headers['last-event-id'];
      const after = parseCursor(
        typeof lastEventId === 'string' && lastEventId !== '' ? lastEventId : queryCursor(request),
      );
      reply.hijack();
      const response = reply.raw;
      response.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-content-type-options': 'nosniff',
        'x-accel-buffering': 'no',
      });
      streams.add(response);
      response.write('retry: 1000\n\n');

      // Only while the backlog and live events overlap; the hub delivers each live event once.
      let sent: Set<number> | null = new Set<number>();
      const send = (event: RevocationEvent, cursor: number) => {
        if (sent?.has(event.seq)) return;
        sent?.add(event.seq);
        response.write(
          `id: ${cursor}\nevent: revocation\ndata: ${JSON.stringify(serializeRevocation(event))}\n\n`,
        );
      };

      // Subscribe before reading the backlog so nothing published in between is lost; events
      // that arrive meanwhile wait in `pending` and go out after the backlog.
      let pending: RevocationEvent[] | null = [];
      const unsubscribe = services.revocationHub.subscribe((event) => {
        if (pending) pending.push(event);
        else send(event, services.revocationHub.safeCursor());
      });
      const heartbeat = setInterval(() => response.write(': heartbeat\n\n'), options.heartbeatMs);
      heartbeat.unref();
      response.on('close', () => {
        unsubscribe();
        clearInterval(heartbeat);
      });

      try {
        for (let cursor = after; ;) {
          const events = await services.storage.listRevocations({
            after: cursor,
            limit: PAGE_SIZE,
          });
          const safe = safeCursorAfter(cursor, events, services.clock.now());
          for (const event of events) send(event, Math.min(event.seq, safe));
          if (events.length < PAGE_SIZE) break;
          cursor = events[events.length - 1]!.seq;
        }
        const waiting = pending;
        pending = null;
        for (const event of waiting) send(event, services.revocationHub.safeCursor());
        sent = null;
      } catch (error) {
        request.log.warn({ err: error }, 'revocation stream failed');
        response.end();
      }
    },
  };
}
