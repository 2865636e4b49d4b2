// The few HTTP helpers the verifier needs, over the platform's fetch: a timeout on every request,
// a size cap on every body, no redirects (the issuer's URLs are configured, not discovered).

export class HttpError extends Error {
  override readonly name = 'HttpError';

  constructor(
    message: string,
    readonly status: number | null = null,
  ) {
    super(message);
  }
}

/** Reads at most `maxBytes` of the body, then parses it as JSON; gives up when `signal` aborts. */
export async function readJson(
  response: Response,
  maxBytes: number,
  signal: AbortSignal,
): Promise<unknown> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new HttpError(`response body over ${maxBytes} bytes`);
  }
  const body = response.body;
  if (!body) throw new HttpError('response has no body');
  const reader = (body as ReadableStream<Uint8Array>).getReader();
  // Not left to fetch alone: Node 20 can lose the link from the signal to the body (see below).
  const cancel = () => void reader.cancel().catch(() => undefined);
  signal.addEventListener('abort', cancel, { once: true });
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (signal.aborted) throw new HttpError('timed out reading the response');
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel();
        throw new HttpError(`response body over ${maxBytes} bytes`);
      }
      chunks.push(value);
    }
  } finally {
    signal.removeEventListener('abort', cancel);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as unknown;
  } catch {
    throw new HttpError('response body is not JSON');
  }
}

/**
 * An AbortController that also aborts when `parent` does (and after `timeoutMs`, if given).
 * (AbortSignal.any would do, but Node 20 can garbage-collect its combined signal while a fetch
 * still depends on it.) Node 20's fetch also holds its own link from the signal to the response
 * body weakly, so readers cancel the body themselves on abort. Call `dispose()` when done.
 */
export function linkedAbort(
  parent: AbortSignal,
  timeoutMs?: number,
): { readonly signal: AbortSignal; abort(): void; dispose(): void } {
  const controller = new AbortController();
  const abort = () => controller.abort();
  if (parent.aborted) abort();
  else parent.addEventListener('abort', abort, { once: true });
  const timer = timeoutMs === undefined ? undefined : setTimeout(abort, timeoutMs);
  return {
    signal: controller.signal,
    abort,
    dispose() {
      clearTimeout(timer);
      parent.removeEventListener('abort', abort);
    },
  };
}

/** GET `url` as JSON, aborted after `timeoutMs` or when `signal` aborts. */
export async function getJson(
  url: string,
  options: {
    readonly timeoutMs: number;
    readonly maxBytes: number;
    readonly signal: AbortSignal;
    readonly headers?: Readonly<Record<string, string>>;
  },
): Promise<unknown> {
  const abort = linkedAbort(options.signal, options.timeoutMs);
  try {
    let response: Response;
    try {
      response = await fetch(url, {
        headers: { accept: 'application/json', ...options.headers },
        redirect: 'error',
        signal: abort.signal,
      });
    } catch (cause) {
      throw new HttpError(`request failed: ${describe(cause)}`);
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new HttpError(`unexpected status ${response.status}`, response.status);
    }
    try {
      return await readJson(response, options.maxBytes, abort.signal);
    } catch (cause) {
      if (cause instanceof HttpError) throw cause;
      throw new HttpError(`reading the response failed: ${describe(cause)}`);
    }
  } finally {
    abort.dispose();
  }
}

/**
 * HTTP Basic for a client credential: RFC 6749 section 2.3.1 form-urlencodes the ID and secret
 * before they are joined, so either may contain ":" or non-ASCII characters.
 */
export function basicAuthorization(id: string, secret: string): string {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${btoa(`${encode(id)}:${encode(secret)}`)}`;
}

/** A short, secret-free description of a failure, for warnings. */
export function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    const causeText = cause instanceof Error ? ` (${cause.message})` : '';
    return `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}${causeText}`;
  }
  return String(error);
}

/** Resolves after `ms`, or at once when `signal` aborts; never rejects. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
