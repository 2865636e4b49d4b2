// Follows the issuer's revocation feed: Server-Sent Events over a streaming fetch, resumed with
// Last-Event-ID after every reconnect; polling GET /v1/revocations when the stream keeps failing.
//
// Freshness is tracked as `knownGoodAt`: the latest moment as of which every revocation the issuer
// had published has been applied here. A completed catch-up (paged GETs until an empty page) sets
// it to when the catch-up started; while a caught-up stream is open, every chunk (an event or a
// heartbeat) sets it to now. A silent or broken connection therefore shows up as growing
// staleness without any timer having to notice it first.
import { HttpError, describe, getJson, linkedAbort, sleep } from './http.js';
import type { Revocation, RevocationKind } from './revocation-set.js';
import { SSEParser, SSEProtocolError, type ServerSentEvent } from './sse.js';

export type FeedMode = 'connecting' | 'streaming' | 'polling' | 'closed';

export interface RevocationFeedSettings {
  /** `{issuer}/v1/revocations`; the stream is `{url}/stream`. */
  readonly url: string;
  readonly authorization: string;
  readonly now: () => number;
  readonly timeoutMs: number;
  readonly heartbeatTimeoutMs: number;
  readonly pollIntervalMs: number;
  readonly reconnectDelayMs: { readonly initial: number; readonly max: number };
  readonly streamFailuresBeforePolling: number;
  readonly streamRetryIntervalMs: number;
  readonly signal: AbortSignal;
  readonly apply: (revocation: Revocation) => void;
  readonly warn: (message: string) => void;
}

const KINDS: ReadonlySet<string> = new Set<RevocationKind>(['session', 'user', 'token']);
const MAX_PAGE_BYTES = 8 * 1024 * 1024;
/** A catch-up that is still not done after this many pages starts over on the next attempt. */
const MAX_PAGES_PER_CATCH_UP = 200;
/** A stream that ends sooner than this after opening counts as a failed attempt. */
const STABLE_STREAM_MS = 10_000;

type ParsedEvent = Revocation | { readonly ignoredSeq: number };

/** The event, `{ ignoredSeq }` for a well-formed event of a kind this version does not know, or null. */
export function parseRevocationEvent(value: unknown): ParsedEvent | null {
  if (typeof value !== 'object' || value === null) return null;
  const { seq, kind, id, at, until } = value as Record<string, unknown>;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq)) return null;
  if (typeof kind !== 'string' || typeof id !== 'string' || id === '') return null;
  if (typeof at !== 'string' || typeof until !== 'string') return null;
  const atMs = Date.parse(at);
  const untilMs = Date.parse(until);
  if (!Number.isFinite(atMs) || !Number.isFinite(untilMs)) return null;
  if (!KINDS.has(kind)) return { ignoredSeq: seq };
  return { seq, kind: kind as RevocationKind, id, at: atMs, until: untilMs };
}

export class RevocationFeed {
  /**
   * Where to resume: the last cursor the issuer gave us, by the stream (an event's `id`) or by a
   * page. Each is written only after the events it covers have been applied, so whichever was
   * written last is a safe resume point: at worst some events come again, which is harmless.
   */
  private cursor: string | null = null;
  private knownGoodAt: number | null = null;
  private currentMode: FeedMode = 'connecting';
  private running: Promise<void> | null = null;
  private resolveCaughtUp!: () => void;
  /** Resolves once, at the first complete catch-up. */
  readonly caughtUp: Promise<void> = new Promise((resolve) => {
    this.resolveCaughtUp = resolve;
  });
  readonly stats = { streamsOpened: 0, eventsReceived: 0 };

  constructor(private readonly settings: RevocationFeedSettings) {}

  start(): void {
    this.running ??= this.run();
  }

  /** Resolves when the follower has stopped (after the signal aborted). */
  async stopped(): Promise<void> {
    await this.running;
  }

  get mode(): FeedMode {
    return this.currentMode;
  }

  /** ms since the moment as of which the state is known complete; Infinity before any catch-up. */
  staleness(now: number): number {
    return this.knownGoodAt === null ? Infinity : Math.max(0, now - this.knownGoodAt);
  }

  private async run(): Promise<void> {
    const { signal, streamFailuresBeforePolling } = this.settings;
    let failures = 0;
    while (!signal.aborted) {
      if (failures >= streamFailuresBeforePolling) {
        this.settings.warn(
          `revocation stream failed ${failures} times in a row: polling, retrying the stream later`,
        );
        await this.pollFor(this.settings.streamRetryIntervalMs);
        // One more stream attempt; if it fails too, back to polling.
        failures = streamFailuresBeforePolling - 1;
        continue;
      }
      const startedAt = performance.now();
      const { caughtUp } = await this.streamOnce();
      if (signal.aborted) break;
      this.currentMode = 'connecting';
      const stable = caughtUp && performance.now() - startedAt >= STABLE_STREAM_MS;
      failures = stable ? 0 : failures + 1;
      if (failures < streamFailuresBeforePolling) await sleep(this.backoff(failures), signal);
    }
    this.currentMode = 'closed';
  }

  /** Exponential, with jitter so that many verifiers do not reconnect in step. */
  private backoff(failures: number): number {
    const { initial, max } = this.settings.reconnectDelayMs;
    const base = Math.min(max, initial * 2 ** Math.max(0, failures - 1));
    return base * (0.5 + Math.random() / 2);
  }

  /** One stream connection, from opening to its end; whether it got as far as catching up. */
  private async streamOnce(): Promise<{ caughtUp: boolean }> {
    const connection = linkedAbort(this.settings.signal);
    try {
      return await this.connect(connection);
    } finally {
      connection.dispose();
    }
  }

  private async connect(
    connection: ReturnType<typeof linkedAbort>,
  ): Promise<{ caughtUp: boolean }> {
    const { settings } = this;
    const { signal } = connection;
    const connectTimer = setTimeout(() => connection.abort(), settings.timeoutMs);
    let response: Response;
    try {
      response = await fetch(`${settings.url}/stream`, {
        headers: {
          accept: 'text/event-stream',
          'cache-control': 'no-cache',
          authorization: settings.authorization,
          ...(this.cursor !== null ? { 'last-event-id': this.cursor } : {}),
        },
        redirect: 'error',
        signal,
      });
    } catch (error) {
      if (!settings.signal.aborted) {
        settings.warn(`revocation stream: connection failed: ${describe(error)}`);
      }
      return { caughtUp: false };
    } finally {
      clearTimeout(connectTimer);
    }
    const contentType = response.headers.get('content-type') ?? '';
    if (response.status !== 200 || !contentType.startsWith('text/event-stream') || !response.body) {
      await response.body?.cancel().catch(() => undefined);
      settings.warn(`revocation stream: unexpected answer ${response.status} ${contentType}`);
      return { caughtUp: false };
    }
    this.stats.streamsOpened++;

    let caughtUp = false;
    const reading = this.readStream(response.body, connection, () => caughtUp);
    try {
      // The stream delivers everything after our cursor from now on; a catch-up from the same
      // cursor covers what happened before it opened. Overlap is harmless: applying is idempotent.
      const startedAt = await this.catchUp(signal);
      caughtUp = true;
      this.currentMode = 'streaming';
      this.markGood(startedAt);
    } catch (error) {
      if (!settings.signal.aborted) {
        settings.warn(`revocation stream: catch-up failed: ${describe(error)}`);
      }
      connection.abort();
    }
    const reason = await reading;
    if (!settings.signal.aborted && caughtUp) {
      settings.warn(`revocation stream ended (${reason}): reconnecting`);
    }
    return { caughtUp };
  }

  /** Reads and applies events until the stream ends; resolves with why it ended, never rejects. */
  private async readStream(
    body: ReadableStream<Uint8Array>,
    connection: { readonly signal: AbortSignal; abort(): void },
    isCaughtUp: () => boolean,
  ): Promise<string> {
    const reader = body.getReader();
    // Cancelling the reader ourselves: Node 20's fetch can lose the link from the signal to the
    // body once the request object has been garbage-collected, leaving a read pending forever.
    const cancel = () => void reader.cancel().catch(() => undefined);
    connection.signal.addEventListener('abort', cancel, { once: true });
    const decoder = new TextDecoder();
    const parser = new SSEParser();
    let silent = false;
    let watchdog: ReturnType<typeof setTimeout> | undefined;
    const armWatchdog = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        silent = true;
        connection.abort();
      }, this.settings.heartbeatTimeoutMs);
    };
    armWatchdog();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (connection.signal.aborted) break;
        if (done) return 'closed by the issuer';
        armWatchdog();
        for (const event of parser.push(decoder.decode(value, { stream: true }))) {
          this.handleStreamEvent(event);
        }
        // Bytes arrived in order after everything published before them: the state is complete
        // as of now (once the initial catch-up has been applied too).
        if (isCaughtUp()) this.markGood(this.settings.now());
      }
    } catch (error) {
      if (!connection.signal.aborted) {
        connection.abort();
        return describe(error);
      }
    } finally {
      clearTimeout(watchdog);
      connection.signal.removeEventListener('abort', cancel);
      await reader.cancel().catch(() => undefined);
    }
    return silent ? `nothing received for ${this.settings.heartbeatTimeoutMs} ms` : 'aborted';
  }

  private handleStreamEvent(event: ServerSentEvent): void {
    if (event.type !== 'revocation') return;
    let value: unknown;
    try {
      value = JSON.parse(event.data);
    } catch {
      throw new SSEProtocolError('revocation event data is not JSON');
    }
    // An event we cannot read might be a revocation we would miss: reconnect from the last good
    // cursor instead of skipping it (and stay stale, so fail closed, if it keeps coming).
    const parsed = parseRevocationEvent(value);
    if (parsed === null) throw new SSEProtocolError('malformed revocation event');
    this.stats.eventsReceived++;
    this.accept(parsed);
    if (event.lastEventId !== '') this.cursor = event.lastEventId;
  }

  private accept(parsed: ParsedEvent): void {
    if ('ignoredSeq' in parsed) {
      this.settings.warn(`revocation event ${parsed.ignoredSeq} has an unknown kind: ignored`);
      return;
    }
    this.settings.apply(parsed);
  }

  /**
   * Pages through GET /v1/revocations from the cursor until a page comes back empty; returns the
   * moment the catch-up started, as of which the state is complete.
   */
  private async catchUp(signal: AbortSignal): Promise<number> {
    const startedAt = this.settings.now();
    let after = this.cursor;
    for (let page = 0; page < MAX_PAGES_PER_CATCH_UP; page++) {
      const url =
        after === null
          ? this.settings.url
          : `${this.settings.url}?after=${encodeURIComponent(after)}`;
      const body = await getJson(url, {
        timeoutMs: this.settings.timeoutMs,
        maxBytes: MAX_PAGE_BYTES,
        signal,
        headers: { authorization: this.settings.authorization },
      });
      const { events, cursor } = (body ?? {}) as { events?: unknown; cursor?: unknown };
      if (!Array.isArray(events) || typeof cursor !== 'string' || cursor === '') {
        throw new HttpError('revocations page is not { events, cursor }');
      }
      for (const raw of events as unknown[]) {
        const parsed = parseRevocationEvent(raw);
        if (parsed === null) throw new HttpError('malformed revocation event');
        this.stats.eventsReceived++;
        this.accept(parsed);
      }
      this.cursor = cursor;
      if (events.length === 0) return startedAt;
      after = cursor;
    }
    throw new HttpError(`still catching up after ${MAX_PAGES_PER_CATCH_UP} pages`);
  }

  /** Polls for `durationMs` (real time), every poll interval. */
  private async pollFor(durationMs: number): Promise<void> {
    const { signal } = this.settings;
    const end = performance.now() + durationMs;
    while (!signal.aborted && performance.now() < end) {
      try {
        const startedAt = await this.catchUp(signal);
        this.currentMode = 'polling';
        this.markGood(startedAt);
      } catch (error) {
        if (signal.aborted) break;
        this.currentMode = 'connecting';
        this.settings.warn(`revocation polling failed: ${describe(error)}`);
      }
      await sleep(this.settings.pollIntervalMs, signal);
    }
  }

  private markGood(moment: number): void {
    this.knownGoodAt = Math.max(this.knownGoodAt ?? -Infinity, moment);
    this.resolveCaughtUp();
  }
}
