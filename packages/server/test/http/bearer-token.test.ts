// The Authorization header's Bearer token, read by hand: the same tokens the RFC 6750 pattern
// `^Bearer +(\S+)\s*$` (case-insensitive) took, and nothing it refused that verification would not
// refuse too (a token with whitespace inside is handed on, and fails as a malformed JWS).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bearerToken } from '../../src/http/authenticate.js';

void describe('bearerToken', () => {
  void it('takes the token after the scheme in any case, spaces and trailing whitespace', () => {
    assert.equal(bearerToken('Bearer abc.def.ghi'), 'abc.def.ghi');
    assert.equal(bearerToken('bEaReR   abc.def.ghi \t '), 'abc.def.ghi');
  });

  void it('finds no token without the scheme, its space or a token', () => {
    for (const header of ['', 'Bearer', 'Bearer ', 'Bearer    ', 'Bearer\tabc', 'Bearerabc']) {
      assert.equal(bearerToken(header), undefined, JSON.stringify(header));
    }
    for (const header of ['Basic abc', 'Bear abc', 'Token abc', ' Bearer abc']) {
      assert.equal(bearerToken(header), undefined, header);
    }
  });

  void it('agrees with the RFC 6750 pattern wherever that pattern finds a token', () => {
    const pattern = /^Bearer +(\S+)\s*$/i;
    const headers = [
      'Bearer a',
      'BEARER  a.b.c',
      'bearer a.b.c\r',
      'Bearer a\u00a0',
      'Bearer eyJ0eXAiOiJhdCtqd3QifQ.e30.c2ln',
    ];
    for (const header of headers) {
      const expected = pattern.exec(header)?.[1];
      assert.ok(expected !== undefined, header);
      assert.equal(bearerToken(header), expected, JSON.stringify(header));
    }
  });
});
