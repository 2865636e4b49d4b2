// The SSE parser against the WHATWG event-stream rules that matter here.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SSEParser, SSEProtocolError } from '../src/sse.js';

describe('SSEParser', () => {
  it('parses events, ids and types, skipping comments and retry', () => {
    const parser = new SSEParser();
    const events = parser.push(
      'retry: 1000\n\n: heartbeat\n\nid: 7\nevent: revocation\ndata: {"a":1}\n\ndata: plain\n\n',
    );
    assert.deepEqual(events, [
      { type: 'revocation', data: '{"a":1}', lastEventId: '7' },
      { type: 'message', data: 'plain', lastEventId: '7' },
    ]);
  });

  it('handles any split across chunks, CRLF and CR line ends included', () => {
    const text =
      'id: 1\r\nevent: revocation\r\ndata: x\r\n\r\nid: 2\revent: revocation\rdata: y\r\r:\n';
    for (let size = 1; size <= text.length; size++) {
      const parser = new SSEParser();
      const events = [];
      for (let i = 0; i < text.length; i += size)
        events.push(...parser.push(text.slice(i, i + size)));
      assert.deepEqual(
        events.map((e) => [e.lastEventId, e.data]),
        [
          ['1', 'x'],
          ['2', 'y'],
        ],
        `chunk size ${size}`,
      );
    }
  });

  it('joins multi-line data, keeps a value without the optional space, ignores NUL ids', () => {
    const parser = new SSEParser();
    const events = parser.push('data:a\ndata: b\nid: bad\0id\ndata\n\n');
    assert.deepEqual(events, [{ type: 'message', data: 'a\nb\n', lastEventId: '' }]);
  });

  it('does not dispatch an event without data, but remembers its id', () => {
    const parser = new SSEParser();
    assert.deepEqual(parser.push('id: 5\nevent: revocation\n\n'), []);
    assert.equal(parser.lastEventId, '5');
  });

  it('refuses an endless line', () => {
    const parser = new SSEParser(100);
    assert.throws(() => parser.push('data: ' + 'x'.repeat(200)), SSEProtocolError);
  });
});
