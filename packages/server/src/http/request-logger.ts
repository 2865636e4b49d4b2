// Per-request loggers made only when a request actually logs. Fastify gives every request a
// child logger bound to its request ID; building a pino child (bindings serialised, redaction
// compiled) costs more than the rest of a cached GET /v1/me, and at the usual levels almost no
// request ever writes a line. The child is built on the first enabled write and reused after.
import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, Logger } from 'pino';

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

export class LazyRequestLogger implements FastifyBaseLogger {
  #child: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  get level(): string {
    return this.#child?.level ?? this.options.level ?? this.parent.level;
  }

  set level(level: string) {
    this.materialize().level = level;
  }

  fatal(...args: unknown[]): void {
    this.write('fatal', args);
  }
  error(...args: unknown[]): void {
    this.write('error', args);
  }
  warn(...args: unknown[]): void {
    this.write('warn', args);
  }
  info(...args: unknown[]): void {
    this.write('info', args);
  }
  debug(...args: unknown[]): void {
    this.write('debug', args);
  }
  trace(...args: unknown[]): void {
    this.write('trace', args);
  }
  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.materialize().child(bindings, options);
  }

  private write(level: Level, args: unknown[]): void {
    const values = this.parent.levels.values;
    const threshold = this.level === 'silent' ? Infinity : (values[this.level] ?? 0);
    if ((values[level] ?? 0) < threshold) return;
    const child = this.materialize();
    Reflect.apply(child[level], child, args);
  }

  private materialize(): FastifyBaseLogger {
    this.#child ??= this.parent.child(this.bindings, this.options);
    return this.#child;
  }
}
