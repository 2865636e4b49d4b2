// Reading the session cookie out of a Cookie header among others, and the Set-Cookie it writes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SessionCookie } from '../../src/http/session-cookie.js';

const secure = new SessionCookie({ cookies: { secure: true, sameSite: 'strict' } });
const local = new SessionCookie({ cookies: { secure: false, sameSite: 'lax' } });

const withCookie = (cookie: string | undefined) =>
  ({ headers: cookie === undefined ? {} : { cookie } }) as unknown as FastifyRequest;

/** A reply that records Set-Cookie headers. */
function recordingReply(): { reply: FastifyReply; written: string[] } {
  const written: string[] = [];
  const reply = {
    header(name: string, value: string) {
      assert.equal(name, 'set-cookie');
      written.push(value);
      return reply;
    },
  };
  return { reply: reply as unknown as FastifyReply, written };
}

void describe('SessionCookie', () => {
  void it('finds its cookie among others, and only by its exact name', () => {
    assert.equal(secure.read(withCookie('a=1; __Host-lk_session=abc_-9; b=2')), 'abc_-9');
    assert.equal(
      secure.read(withCookie('__Host-lk_session=first;__Host-lk_session=second')),
      'first',
    );
    assert.equal(secure.read(withCookie('lk_session=plain')), undefined);
    assert.equal(local.read(withCookie('xlk_session=1; lk_session_old=2')), undefined);
    assert.equal(local.read(withCookie('lk_session=')), '');
    assert.equal(local.read(withCookie(undefined)), undefined);
  });

  void it('writes and clears with the configured attributes', () => {
    const { reply, written } = recordingReply();
    secure.set(reply, 'value', Date.UTC(2030, 0, 2, 3, 4, 5));
    secure.clear(reply);
    assert.deepEqual(written, [
      '__Host-lk_session=value; Expires=Wed, 02 Jan 2030 03:04:05 GMT; Path=/; HttpOnly; Secure; SameSite=Strict',
      '__Host-lk_session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Strict',
    ]);
    const plain = recordingReply();
    local.set(plain.reply, 'v', 0);
    assert.match(plain.written[0]!, /^lk_session=v; .*; Path=\/; HttpOnly; SameSite=Lax$/);
  });
});
