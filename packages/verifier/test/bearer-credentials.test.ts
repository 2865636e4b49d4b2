// The Authorization header read by hand: the same answers as the two RFC 6750 patterns it
// replaced, over every combination of the shapes a header takes. Where they differ, the hand
// reader passes on a token with a tab or other non-space whitespace inside, which verification
// refuses with the same 401 as a malformed header.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bearerCredentials } from '../src/authenticate.js';

/** The patterns the verifier used before: null for another scheme, '' for a malformed Bearer. */
function byPatterns(header: string): string | null {
  const scheme = /^([A-Za-z0-9!#$%&'*+.^_`|~-]+)(?: |$)/.exec(header)?.[1];
  if (scheme === undefined || scheme.toLowerCase() !== 'bearer') return null;
  return /^Bearer +(\S+) *$/i.exec(header)?.[1] ?? '';
}

const SCHEMES = ['Bearer', 'bearer', 'BEARER', 'bEaReR', 'Basic', 'Bear', 'Bearerx', '', ' Bearer'];
const GAPS = ['', ' ', '   ', '\t', ' \t'];
const TOKENS = ['', 'a', 'a.b.c', 'eyJ0eXAiOiJhdCtqd3QifQ.e30.c2ln', 'a b', 'a\tb', 'a\u00a0b'];
const ENDS = ['', ' ', '  ', '\t', ' x'];

void describe('bearerCredentials', () => {
  void it('answers as the RFC 6750 patterns did, but for whitespace that verification refuses', () => {
    let compared = 0;
    for (const scheme of SCHEMES) {
      for (const gap of GAPS) {
        for (const token of TOKENS) {
          for (const end of ENDS) {
            const header = `${scheme}${gap}${token}${end}`;
            const expected = byPatterns(header);
            const actual = bearerCredentials(header);
            compared++;
            if (actual === expected) continue;
            // Only a Bearer header the patterns called malformed may differ, and only by handing
            // on a token that is no strict compact JWS.
            assert.equal(expected, '', JSON.stringify(header));
            assert.ok(actual !== null && /\s/.test(actual), JSON.stringify({ header, actual }));
          }
        }
      }
    }
    assert.equal(compared, SCHEMES.length * GAPS.length * TOKENS.length * ENDS.length);
  });

  void it('takes the token after the scheme in any case and any number of spaces', () => {
    assert.equal(bearerCredentials('Bearer abc.def.ghi'), 'abc.def.ghi');
    assert.equal(bearerCredentials('bEaReR   abc.def.ghi  '), 'abc.def.ghi');
    assert.equal(bearerCredentials('Bearer'), '');
    assert.equal(bearerCredentials('Bearer abc def'), '');
    assert.equal(bearerCredentials('Basic dXNlcjpwYXNz'), null);
  });
});
