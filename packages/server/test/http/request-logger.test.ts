// The per-request logger is built only when a request writes a line its level lets through, and
// then carries the request's bindings and the parent's redaction like any pino child.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino, type Logger } from 'pino';
import { LazyRequestLogger } from '../../src/http/request-logger.js';

function memoryLogger(level: string): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const logger = pino({ level, redact: ['token'] }, destination);
  const lines = () =>
    chunks
      .join('')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines };
}

/** Counts the children the parent builds. */
function countChildren(logger: Logger): () => number {
  let built = 0;
  const child = logger.child.bind(logger);
  logger.child = ((...args: Parameters<Logger['child']>) => {
    built++;
    return child(...args);
  }) as Logger['child'];
  return () => built;
}

void describe('LazyRequestLogger', () => {
  void it('builds no child for lines below the level', () => {
    const { logger, lines } = memoryLogger('warn');
    const built = countChildren(logger);
    const requestLogger = new LazyRequestLogger(logger, { reqId: 'r-1' }, {});
    requestLogger.info({ url: '/v1/me' }, 'incoming request');
    requestLogger.debug('detail');
    requestLogger.trace('more detail');
    assert.equal(built(), 0);
    assert.deepEqual(lines(), []);
    assert.equal(requestLogger.level, 'warn');
  });

  void it('writes enabled lines through one child bound to the request, redacted', () => {
    const { logger, lines } = memoryLogger('warn');
    const built = countChildren(logger);
    const requestLogger = new LazyRequestLogger(logger, { reqId: 'r-2' }, {});
    requestLogger.error({ token: 'lkr_secret' }, 'request failed');
    requestLogger.warn('dependency unavailable');
    assert.equal(built(), 1);
    const written = lines();
    assert.equal(written.length, 2);
    assert.deepEqual(
      written.map((line) => [line['reqId'], line['msg']]),
      [
        ['r-2', 'request failed'],
        ['r-2', 'dependency unavailable'],
      ],
    );
    assert.equal(written[0]!['token'], '[Redacted]');
  });

  void it('follows a level given for the request rather than the parent', () => {
    const { logger, lines } = memoryLogger('warn');
    const verbose = new LazyRequestLogger(logger, { reqId: 'r-3' }, { level: 'debug' });
    verbose.debug('kept');
    const quiet = new LazyRequestLogger(logger, { reqId: 'r-4' }, { level: 'silent' });
    quiet.fatal('dropped');
    assert.deepEqual(
      lines().map((line) => line['msg']),
      ['kept'],
    );
  });
});
