// A small Server-Sent Events parser (WHATWG HTML, "Parsing an event stream"): text in, events out.
// Lines end with CRLF, LF or CR; comment lines (": heartbeat") are dropped; `id` is remembered
// across events as the last event ID, the resume point after a reconnect.

export interface ServerSentEvent {
  /** The `event` field, or "message" when absent. */
  readonly type: string;
  readonly data: string;
  /** The last event ID in effect when this event was dispatched ("" if none yet). */
  readonly lastEventId: string;
}

export class SSEProtocolError extends Error {
  override readonly name = 'SSEProtocolError';
}

export class SSEParser {
  private pending = '';
  private data: string[] = [];
  private eventType = '';
  private lastEventIdBuffer = '';

  /** @param maxLineLength longer lines mean a broken or hostile stream, not a slow one. */
  constructor(private readonly maxLineLength = 1024 * 1024) {}

  /** The last event ID seen so far, dispatched or not. */
  get lastEventId(): string {
    return this.lastEventIdBuffer;
  }

  /** Feeds decoded text; returns the events completed by it. */
  push(text: string): ServerSentEvent[] {
    const events: ServerSentEvent[] = [];
    let buffer = this.pending + text;
    let start = 0;
    for (;;) {
      let end = -1;
      for (let i = start; i < buffer.length; i++) {
        const c = buffer.charCodeAt(i);
        if (c === 10 || c === 13) {
          end = i;
          break;
        }
      }
      if (end === -1) break;
      // A CR at the very end may be the first half of a CRLF split across chunks: wait.
      if (buffer.charCodeAt(end) === 13 && end === buffer.length - 1) break;
      const line = buffer.slice(start, end);
      start =
        buffer.charCodeAt(end) === 13 && buffer.charCodeAt(end + 1) === 10 ? end + 2 : end + 1;
      const event = this.processLine(line);
      if (event) events.push(event);
    }
    buffer = buffer.slice(start);
    if (buffer.length > this.maxLineLength) {
      throw new SSEProtocolError(`event stream line over ${this.maxLineLength} characters`);
    }
    this.pending = buffer;
    return events;
  }

  private processLine(line: string): ServerSentEvent | null {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return null;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.eventType = value;
        break;
      case 'data':
        this.data.push(value);
        if (this.data.length > 10_000) throw new SSEProtocolError('event with too many lines');
        break;
      case 'id':
        if (!value.includes('\0')) this.lastEventIdBuffer = value;
        break;
      default:
        // `retry` and unknown fields: nothing this client acts on.
        break;
    }
    return null;
  }

  private dispatch(): ServerSentEvent | null {
    const data = this.data;
    const type = this.eventType;
    this.data = [];
    this.eventType = '';
    if (data.length === 0) return null;
    return { type: type || 'message', data: data.join('\n'), lastEventId: this.lastEventIdBuffer };
  }
}
