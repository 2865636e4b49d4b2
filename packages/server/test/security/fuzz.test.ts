// Property-based and fuzz tests over every route of the route table: hostile bodies, headers,
// query strings and path parameters, anonymous and with live credentials, so the requests get
// past authentication into validation and the handlers.
//
// Invariants, checked on every single request:
// - never a 5xx, and the process keeps answering /healthz;
// - every response carries `X-Content-Type-Options: nosniff`;
// - every 4xx body parses: problem+json (RFC 9457) with a code from API.md's registry and the
//   status that code has there, or on the OAuth endpoints the RFC 6749 section 5.2 shape;
// - a rejected request (4xx) changes no stored record (see `snapshot`);
// - no prototype pollution: `Object.prototype` and `Array.prototype` keep their own properties.
//
// Reproduce a failure with the seed and path fast-check prints (`fc.assert(..., { seed, path })`).
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { deriveCsrfToken } from '../../src/core/csrf-token.js';
import { OpenStreams } from '../../src/http/handlers/revocation-feed.js';
import { Metrics } from '../../src/http/metrics.js';
import { routeTable } from '../../src/http/route-table.js';
import type { RouteSpec } from '../../src/http/route-types.js';
import {
  PASSWORD,
  json,
  passwordGrant,
  signUp,
  startTestServer,
  uniqueEmail,
  type TestServer,
} from '../support/harness.js';

/** API.md's error registry and the status of each code (a 5xx is never acceptable here). */
const PROBLEM_STATUS: Readonly<Record<string, number>> = {
  validation_failed: 400,
  invalid_credentials: 401,
  unauthenticated: 401,
  session_expired: 401,
  forbidden: 403,
  csrf_failed: 403,
  rate_limited: 429,
  email_taken: 409,
  not_found: 404,
  payload_too_large: 413,
  unsupported_media_type: 415,
  reauthentication_required: 401,
};
/** RFC 6749 section 5.2 error codes. */
const OAUTH_ERRORS = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
]);
const BODY_LIMIT = 16 * 1024;

const RESOURCE_SERVER = { id: 'fuzz-rs', secret: 'fuzz-resource-server-secret-0123456789abcdef' };
const BASIC = `Basic ${Buffer.from(`${RESOURCE_SERVER.id}:${RESOURCE_SERVER.secret}`).toString('base64')}`;

// Live values are written as markers in the generated data and filled in when a request is
// sent, so fast-check can generate and shrink them while the credentials stay current. No
// refresh token is among them: presenting a rotated one is reuse, which rightly revokes the
// family while answering 400, the one rejection that must change storage.
const LIVE = [
  'userBearer',
  'adminBearer',
  'sessionSecret',
  'csrfToken',
  'ownSessionId',
  'victimId',
  'victimSessionId',
  'holderEmail',
] as const;
type LiveName = (typeof LIVE)[number];
const marker = (name: LiveName) => `@@${name}@@`;
const MARKER = /@@([A-Za-z]+)@@/g;

// ---------------------------------------------------------------------------------------------
// Hostile values

const HOSTILE_STRINGS: readonly string[] = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff',
  'x\ud800y',
  '\ud83d',
  '\ufeff',
  '\u202e',
  '\u0085',
  '\r\n',
  '%00',
  '%',
  '%zz',
  '%2e%2e%2f',
  '../../../../etc/passwd',
  '..\\..\\windows',
  "' OR '1'='1",
  '"; DROP TABLE users; --',
  '${jndi:ldap://x}',
  '{{7*7}}',
  '<script>alert(1)</script>',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'null',
  'undefined',
  'NaN',
  'Infinity',
  '-0',
  '1e400',
  '123456789012345678901234567890',
  '9007199254740993',
  'lkr_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
  'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
  'Bearer',
  'admin',
  'ADMIN@EXAMPLE.TEST',
  ' user@example.test ',
  'user@example.test\u0000',
  'ｕｓｅｒ＠ｅｘａｍｐｌｅ．ｔｅｓｔ',
  'e\u0301@example.test',
  '\u{1F600}'.repeat(40),
  'a'.repeat(129),
  'a'.repeat(4097),
  'a'.repeat(15_000),
];

/** Raw JSON number (and literal) tokens JavaScript reads lossily or not at all. */
const RAW_NUMBERS = [
  '1e400',
  '-1e400',
  '1e-400',
  '123456789012345678901234567890',
  '9007199254740993',
  '-0',
  '0.1',
  '1E+2',
  'true',
  'false',
  'null',
];

const POLLUTION_KEYS = ['__proto__', 'constructor', 'prototype'];
const OAUTH_PARAMS = [
  'grant_type',
  'username',
  'password',
  'client_id',
  'refresh_token',
  'token',
  'token_type_hint',
  'scope',
];
const QUERY_KEYS = ['limit', 'cursor', 'email', 'after', 'except', 'userId', 'type'];

/** Values that get past the first checks of some field, so the fuzzer reaches deeper. */
const PLAUSIBLE = [
  'web',
  'app',
  'api',
  'password',
  'refresh_token',
  'access_token',
  'current',
  '50',
  '100',
  '0',
  '101',
  'login_failed',
  'signup',
  PASSWORD,
  'another correct horse battery staple',
  ...LIVE.map(marker),
  // Opaque cursors: base64url JSON of a string, a number, a NUL, a huge number.
  ...['"x"', '1', '"\\u0000"', '1e400', '-1', '{}'].map((c) =>
    Buffer.from(c).toString('base64url'),
  ),
];

/** One UTF-16 code unit, lone surrogates included. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((n) => String.fromCharCode(n));
/** What an HTTP field value may carry: HTAB, visible ASCII, space and obs-text. */
const fieldChar = fc.oneof(
  fc.integer({ min: 0x20, max: 0x7e }),
  fc.constant(0x09),
  fc.integer({ min: 0x80, max: 0xff }),
);
const fieldValue = (maxLength = 80) =>
  fc.array(fieldChar, { maxLength }).map((codes) => String.fromCharCode(...codes).trim());

const hostileString = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  { weight: 3, arbitrary: fc.constantFrom(...PLAUSIBLE) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: codeUnit, maxLength: 20 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
);

// ---------------------------------------------------------------------------------------------
// JSON trees rendered as text, so duplicate keys and unrepresentable numbers survive.

type Tree =
  | { readonly t: 'raw'; readonly text: string }
  | { readonly t: 'str'; readonly value: string }
  | { readonly t: 'arr'; readonly items: readonly Tree[] }
  | { readonly t: 'obj'; readonly entries: readonly (readonly [string, Tree])[] };

function render(tree: Tree): string {
  switch (tree.t) {
    case 'raw':
      return tree.text;
    case 'str':
      return JSON.stringify(tree.value);
    case 'arr':
      return `[${tree.items.map(render).join(',')}]`;
    case 'obj':
      return `{${tree.entries.map(([k, v]) => `${JSON.stringify(k)}:${render(v)}`).join(',')}}`;
  }
}

function treeArbitrary(keys: readonly string[]) {
  const key = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...keys) },
    { weight: 2, arbitrary: fc.constantFrom(...POLLUTION_KEYS) },
    { weight: 1, arbitrary: hostileString },
  );
  const leaf: fc.Arbitrary<Tree> = fc.oneof(
    { weight: 5, arbitrary: hostileString.map((value): Tree => ({ t: 'str', value })) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(...RAW_NUMBERS).map((text): Tree => ({ t: 'raw', text })),
    },
    {
      weight: 1,
      arbitrary: fc
        .oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }))
        .map((n): Tree => ({ t: 'raw', text: JSON.stringify(n) })),
    },
  );
  const { node, obj } = fc.letrec<{ node: Tree; arr: Tree; obj: Tree }>((tie) => ({
    node: fc.oneof({ depthSize: 'small' }, leaf, tie('arr'), tie('obj')),
    arr: fc.array(tie('node'), { maxLength: 4 }).map((items): Tree => ({ t: 'arr', items })),
    obj: fc
      .array(fc.tuple(key, tie('node')), { maxLength: 6 })
      .map((entries): Tree => ({ t: 'obj', entries })),
  }));
  // Mostly an object of known fields, as a client would send, but anything may come.
  return fc.oneof({ weight: 4, arbitrary: obj }, { weight: 1, arbitrary: node });
}

/** Raw bodies a parser has to survive, by name. */
const HOSTILE_BODIES: ReadonlyArray<readonly [string, string | Buffer]> = [
  ['10,000 nested arrays (over the limit)', '['.repeat(10_000) + ']'.repeat(10_000)],
  ['8,000 nested arrays', '['.repeat(8_000) + ']'.repeat(8_000)],
  ['8,000 unclosed arrays', '['.repeat(8_000)],
  ['2,500 nested objects', '{"a":'.repeat(2_500) + '1' + '}'.repeat(2_500)],
  [
    '__proto__ under 2,000 objects',
    '{"a":'.repeat(2_000) + '{"__proto__":{"polluted":1}}' + '}'.repeat(2_000),
  ],
  ['huge numbers', '{"email":1e400,"password":123456789012345678901234567890,"limit":-1e400}'],
  ['huge OAuth numbers', '{"grant_type":1e400,"client_id":123456789012345678901234567890}'],
  ['lone surrogates', '{"email":"\\ud800@example.test","password":"\\udfff\\ud800"}'],
  ['lone surrogate keys', '{"\\ud800":1,"grant_type":"\\udbff"}'],
  ['escaped NUL', '{"email":"a\\u0000@example.test","password":"\\u0000"}'],
  ['raw NUL byte in a string', '{"email":"a\u0000b"}'],
  ['raw control characters', '{"email":"a\u0001\u001f"}'],
  [
    'duplicate keys',
    '{"email":"a@example.test","email":"b@example.test","password":"x","password":"y"}',
  ],
  [
    'duplicate OAuth keys',
    '{"grant_type":"password","grant_type":"refresh_token","token":"a","token":"b"}',
  ],
  ['__proto__ key', '{"__proto__":{"polluted":"yes"},"email":"a@example.test"}'],
  ['__proto__ twice', '{"__proto__":{"polluted":1},"__proto__":{"polluted":2}}'],
  ['constructor.prototype', '{"constructor":{"prototype":{"polluted":"yes"}}}'],
  ['prototype key', '{"prototype":{"polluted":"yes"},"token":"x"}'],
  ['__proto__ in an array', '[{"__proto__":{"polluted":1}}]'],
  ['escaped __proto__', '{"\\u005f_proto__":{"polluted":1}}'],
  ['array instead of object', '[{"email":"a@example.test","password":"x"}]'],
  ['empty array', '[]'],
  ['string root', '"email"'],
  ['number root', '123'],
  ['null root', 'null'],
  ['true root', 'true'],
  ['empty object', '{}'],
  ['empty body', ''],
  ['whitespace only', ' \n\t '],
  ['trailing garbage', '{"token":"x"}garbage'],
  ['two objects', '{"token":"x"}{"token":"y"}'],
  ['trailing comma', '{"token":"x",}'],
  ['single quotes', "{'token':'x'}"],
  ['comment', '{/* c */"token":"x"}'],
  ['byte order mark', '\ufeff{"token":"x"}'],
  [
    'invalid UTF-8',
    Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc0, 0xaf, 0x22, 0x7d]),
  ],
  ['UTF-16 text', Buffer.from('{"token":"x"}', 'utf16le')],
  [
    'string just under the limit',
    `{"email":"${'a'.repeat(BODY_LIMIT - 40)}@example.test","password":"x"}`,
  ],
  ['string just over the limit', `{"token":"${'a'.repeat(BODY_LIMIT)}"}`],
  ['form with __proto__', '__proto__=x&constructor=y&prototype=z&token=x'],
  ['form with bracket keys', '__proto__[polluted]=1&constructor[prototype][polluted]=1&token=x'],
  ['form with repeated keys', 'grant_type=password&grant_type=password&token=a&token=b'],
  ['form with bad escapes', 'token=%zz&grant_type=%&%=%'],
  ['form with NUL', 'token=a%00b&username=%00&password=%00'],
];

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=UTF-8',
  'application/json; charset=utf-16',
  'application/json;charset=latin1',
  'application/JSON',
  'Application/Json ; charset="utf-8"',
  'application/json; boundary=x; charset=utf-8; charset=ascii',
  'application/json; charset',
  'application/json;;;',
  'application/x-www-form-urlencoded',
  'application/x-www-form-urlencoded; charset=utf-8',
  'application/x-www-form-urlencoded; charset=iso-8859-1',
  'text/plain',
  'text/plain;charset=UTF-8',
  'multipart/form-data; boundary=----x',
  'application/xml',
  'application/problem+json',
  'application/merge-patch+json',
  'application/vnd.api+json',
  '*/*',
  ';',
  'application/',
  '/json',
];

// ---------------------------------------------------------------------------------------------
// Requests

type Authorization =
  | { readonly kind: 'none' }
  | { readonly kind: 'raw'; readonly value: string }
  | {
      readonly kind: 'bearer';
      readonly who: 'userBearer' | 'adminBearer';
      readonly scheme: string;
      readonly suffix: string;
    }
  | { readonly kind: 'basic' };

interface Headers {
  readonly authorization: Authorization;
  /** Values may hold markers. */
  readonly extra: Readonly<Record<string, string>>;
}

interface Body {
  readonly contentType: string | undefined;
  readonly payload: string | Buffer;
}

interface FuzzRequest {
  readonly route: number;
  /** Another method on the route's URL, now and then. */
  readonly method: string | null;
  readonly params: readonly string[];
  readonly query: string;
  readonly headers: Headers;
  readonly body: Body | null;
}

const authorizationArbitrary: fc.Arbitrary<Authorization> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: 'none' as const }) },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('bearer' as const),
      who: fc.constantFrom('userBearer' as const, 'adminBearer' as const),
      scheme: fc.constantFrom(
        'Bearer ',
        'bearer ',
        'BEARER  ',
        'Bearer\t',
        'Bearer',
        'Basic ',
        'Token ',
      ),
      suffix: fc.constantFrom('', '', '', ' ', 'x', '.', ' extra', '=', '\t'),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'basic' as const }) },
  {
    weight: 3,
    arbitrary: fc
      .oneof(
        fieldValue(),
        fc
          .tuple(
            fc.constantFrom('Bearer', 'Basic', 'Digest', 'DPoP', 'Negotiate', 'bearer', ''),
            fieldValue(),
          )
          .map(([scheme, rest]) => `${scheme} ${rest}`),
        fc
          .array(fc.integer({ min: 0, max: 255 }), { maxLength: 60 })
          .map((bytes) => `Basic ${Buffer.from(bytes).toString('base64')}`),
        fc.constantFrom(
          'Bearer ',
          'Bearer a.b.c',
          'Bearer a.b.c.d.e',
          'Bearer ....',
          `Bearer ${'A'.repeat(9000)}`,
          'Basic Og==',
          'Basic ' + Buffer.from(`${RESOURCE_SERVER.id}:`).toString('base64'),
          'Basic ' + Buffer.from(`:${RESOURCE_SERVER.secret}`).toString('base64'),
          'Basic ' +
            Buffer.from(`${RESOURCE_SERVER.id}:${RESOURCE_SERVER.secret}x`).toString('base64'),
          'Basic ' + Buffer.from(`%ZZ:%ZZ`).toString('base64'),
          'Basic ' + Buffer.from(`\u0000:\u0000`).toString('base64'),
          'Basic ====',
        ),
      )
      .map((value) => ({ kind: 'raw' as const, value })),
  },
);

/** Present in `present` out of `present + absent` requests. */
const optional = (arbitrary: fc.Arbitrary<string>, present = 1, absent = 1) =>
  fc.oneof({ weight: absent, arbitrary: fc.constant(undefined) }, { weight: present, arbitrary });

const headersArbitrary: fc.Arbitrary<Headers> = fc.record({
  authorization: authorizationArbitrary,
  extra: fc
    .record({
      cookie: optional(
        fc.oneof(
          fc.constantFrom(
            `lk_session=${marker('sessionSecret')}`,
            `lk_session=${marker('sessionSecret')}x`,
            `lk_session=${marker('sessionSecret')}; lk_session=garbage`,
            `lk_session=garbage; lk_session=${marker('sessionSecret')}`,
            `__Host-lk_session=${marker('sessionSecret')}`,
            `__proto__=polluted; lk_session=${marker('sessionSecret')}`,
            'lk_session=',
            'lk_session',
            '=;;=;',
            `lk_session=${'A'.repeat(5000)}`,
          ),
          fieldValue().map((v) => `lk_session=${v}`),
          fieldValue(),
        ),
      ),
      'x-csrf-token': optional(
        fc.oneof(
          fc.constantFrom(
            marker('csrfToken'),
            `${marker('csrfToken')} `,
            `x${marker('csrfToken')}`,
          ),
          fieldValue(),
        ),
      ),
      origin: optional(
        fc.oneof(
          fc.constantFrom(
            'http://127.0.0.1:8080',
            'http://127.0.0.1:8080/',
            'http://127.0.0.1:8080.evil.example',
            'HTTP://127.0.0.1:8080',
            'null',
            'https://evil.example',
            '',
          ),
          fieldValue(),
        ),
      ),
      'sec-fetch-site': optional(
        fc.oneof(
          fc.constantFrom(
            'same-origin',
            'same-site',
            'cross-site',
            'none',
            'CROSS-SITE',
            ' cross-site',
          ),
          fieldValue(20),
        ),
      ),
      'content-length': optional(fc.constantFrom('0', '1', '999999', '-1', 'abc', '1e3'), 1, 9),
      'last-event-id': optional(
        fc.oneof(fc.constantFrom('0', '-1', '9'.repeat(20), '1e3'), fieldValue(20)),
      ),
      'user-agent': optional(fc.oneof(fieldValue(), fc.constant('A'.repeat(4000)))),
      'x-forwarded-for': optional(fc.oneof(fc.constant('1.2.3.4, ::1'), fieldValue(30))),
      accept: optional(
        fc.oneof(fc.constantFrom('*/*', 'text/event-stream', 'application/xml'), fieldValue(30)),
      ),
    })
    .map((record) =>
      Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)),
    ) as fc.Arbitrary<Record<string, string>>,
});

function bodyArbitrary(keys: readonly string[]): fc.Arbitrary<Body | null> {
  const contentType = fc.oneof(
    {
      weight: 8,
      arbitrary: fc.constantFrom('application/json', 'application/x-www-form-urlencoded'),
    },
    { weight: 3, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
    { weight: 1, arbitrary: fieldValue(40) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
  const json = fc.record({
    contentType: fc.oneof(
      { weight: 5, arbitrary: fc.constant('application/json') },
      { weight: 1, arbitrary: contentType },
    ),
    payload: treeArbitrary(keys).map(render),
  });
  const form = fc.record({
    contentType: fc.oneof(
      { weight: 5, arbitrary: fc.constant('application/x-www-form-urlencoded') },
      { weight: 1, arbitrary: contentType },
    ),
    payload: fc
      .array(
        fc.tuple(
          fc.oneof(
            fc.constantFrom(...keys, ...POLLUTION_KEYS, '__proto__[polluted]'),
            hostileString,
          ),
          hostileString,
        ),
        { maxLength: 6 },
      )
      // Markers stay literal here; `fill` replaces them before sending.
      .map((pairs) =>
        pairs
          .map(
            ([k, v]) =>
              `${encodeURIComponent(k.replace(/[\ud800-\udfff]/g, '?'))}=${encodeURIComponent(v.replace(/[\ud800-\udfff]/g, '?')).replace(/%40%40/g, '@@')}`,
          )
          .join('&'),
      ),
  });
  const raw = fc.record({
    contentType,
    payload: fc.constantFrom(...HOSTILE_BODIES.map(([, body]) => body)),
  });
  // The fields the route reads, each with a hostile or plausible string: what gets past schema
  // validation into the handler. Forms too where the route takes them (the OAuth endpoints).
  // The fields the route reads, mostly strings (hostile or plausible), now and then another
  // JSON type: what gets past schema validation into the handler. Forms too, where the route
  // takes them (the OAuth endpoints).
  const fieldValueTree: fc.Arbitrary<Tree> = fc.oneof(
    { weight: 8, arbitrary: hostileString.map((value): Tree => ({ t: 'str', value })) },
    {
      weight: 2,
      arbitrary: fc
        .constantFrom(...RAW_NUMBERS, '[]', '{}', '["x"]', '{"x":"y"}', '[[["x"]]]')
        .map((text): Tree => ({ t: 'raw', text })),
    },
  );
  const shaped = fc
    .tuple(
      fc.oneof(
        { weight: 3, arbitrary: fc.constant([...keys]) },
        { weight: 1, arbitrary: fc.subarray([...keys]) },
      ),
      fc.array(fieldValueTree, { minLength: keys.length, maxLength: keys.length }),
      fc.boolean(),
    )
    .map(([chosen, values, asForm]): Body => {
      const entries = chosen.map((k): [string, Tree] => [k, values[keys.indexOf(k)]!]);
      if (!asForm)
        return { contentType: 'application/json', payload: render({ t: 'obj', entries }) };
      const form = new URLSearchParams(
        entries.map(([k, v]): [string, string] => [
          k,
          (v.t === 'str' ? v.value : render(v)).replace(/[\ud800-\udfff]/g, '?'),
        ]),
      );
      return {
        contentType: 'application/x-www-form-urlencoded',
        payload: form.toString().replace(/%40%40/g, '@@'),
      };
    });
  const bytes = fc.record({
    contentType,
    payload: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
  });
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant(null) },
    { weight: 6, arbitrary: shaped },
    { weight: 6, arbitrary: json },
    { weight: 3, arbitrary: form },
    { weight: 3, arbitrary: raw },
    { weight: 1, arbitrary: bytes },
  );
}

/** `k=v&...` with encoded parts, or raw hostile text. */
const queryArbitrary: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: fc.constant('') },
  {
    weight: 6,
    arbitrary: fc
      .array(
        fc.tuple(
          fc.oneof(
            { weight: 4, arbitrary: fc.constantFrom(...QUERY_KEYS) },
            {
              weight: 1,
              arbitrary: fc.constantFrom(
                '__proto__[polluted]',
                'constructor[prototype][polluted]',
                '__proto__',
              ),
            },
            { weight: 1, arbitrary: hostileString },
          ),
          hostileString,
        ),
        { maxLength: 5 },
      )
      .map((pairs) =>
        pairs
          .map(
            ([k, v]) =>
              `${encodeURIComponent(k.replace(/[\ud800-\udfff]/g, '?'))}=${encodeURIComponent(v.replace(/[\ud800-\udfff]/g, '?')).replace(/%40%40/g, '@@')}`,
          )
          .join('&'),
      ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '%zz',
      'limit=%',
      '&&&',
      '=',
      'limit',
      'limit=1&limit=2',
      'limit[]=1',
      'limit[a]=1',
      'except=current&except=current',
      '__proto__[polluted]=1',
      'constructor[prototype][polluted]=1',
      '__proto__.polluted=1',
      'a=1;b=2',
      `cursor=${'A'.repeat(300)}`,
      `email=${'a'.repeat(400)}%40example.test`,
    ),
  },
);

/** Path parameters, within Fastify's 100-character limit (over it: see the todo test below). */
const ID_MARKERS = [marker('victimId'), marker('victimSessionId'), marker('ownSessionId')];
const paramArbitrary: fc.Arbitrary<string> = fc
  .oneof(
    { weight: 3, arbitrary: hostileString },
    { weight: 2, arbitrary: fc.constantFrom(...ID_MARKERS) },
  )
  .map((value) => value.replace(/[\ud800-\udfff]/g, '?'))
  .filter((value) =>
    value.includes('@@') ? ID_MARKERS.includes(value) : encodeURIComponent(value).length <= 100,
  );

// ---------------------------------------------------------------------------------------------

describe('fuzzing every route of the route table', () => {
  let server: TestServer;
  let routes: RouteSpec[];
  let holder: { id: string; email: string };
  let admin: { id: string; email: string };
  let victim: { id: string; email: string };
  let victimSessionId: string;
  let live: Record<LiveName, string> | null = null;
  /** The last snapshot taken, while only fuzzed requests have touched storage since. */
  let stored: string | null = null;
  const prototypeShape = () =>
    JSON.stringify([
      Object.getOwnPropertyNames(Object.prototype).sort(),
      Object.getOwnPropertyNames(Array.prototype).sort(),
    ]);
  let pristinePrototypes: string;
  /** Status codes seen per route, to show the fuzzing reached past authentication. */
  const seen = new Map<string, Set<number>>();

  before(async () => {
    server = await startTestServer({
      // Fuzzing sends many failed logins from one address; 429 is an answer like any other 4xx,
      // but high limits keep most requests going through the login code itself.
      throttle: {
        accountFreeFailures: 100,
        ipFreeFailures: 100_000,
        accountHardLimit: 100,
        signupsPerIpPerHour: 1_000_000,
      },
      rateLimits: { refreshPerMinute: 10_000_000, defaultPerMinute: 10_000_000 },
      resourceServers: [RESOURCE_SERVER],
    });
    routes = routeTable(server.services, new Metrics({ defaultMetrics: false }), {
      streams: new OpenStreams(),
      heartbeatMs: 60_000,
    });
    holder = await signUp(server);
    victim = await signUp(server);
    victimSessionId = (await passwordGrant(server, victim.email, 'app')).session_id!;
    const adminEmail = uniqueEmail('admin');
    const created = await server.services.accounts.signUp(
      adminEmail,
      PASSWORD,
      { ip: null, userAgent: null },
      ['admin'],
    );
    assert.ok(created.ok);
    admin = { id: created.user.id, email: adminEmail };
    pristinePrototypes = prototypeShape();
  });
  after(() => server.close());
  // Tests also change storage outside `send` (and a failed one may stop half-way).
  beforeEach(() => {
    stored = null;
  });

  /** Fresh credentials, minted in the core (no password hashing), after any were used up. */
  async function liveValues(): Promise<Record<LiveName, string>> {
    if (live) return live;
    const { accounts, accessTokens, sessions, clients } = server.services;
    const user = await accounts.findUser(holder.id);
    const adminUser = await accounts.findUser(admin.id);
    assert.ok(user && user.status === 'active' && adminUser && adminUser.status === 'active');
    const started = await sessions.start(user, clients.get('web')!, { ip: null, userAgent: null });
    assert.ok(!('refused' in started));
    stored = null;
    live = {
      userBearer: (await accessTokens.issue(user, clients.get('api')!)).token,
      adminBearer: (await accessTokens.issue(adminUser, clients.get('api')!)).token,
      sessionSecret: started.secret,
      csrfToken: deriveCsrfToken(started.secret),
      ownSessionId: started.session.id,
      victimId: victim.id,
      victimSessionId,
      holderEmail: holder.email,
    };
    return live;
  }

  function fill(text: string, values: Record<LiveName, string>): string {
    return text.replace(MARKER, (whole, name: string) =>
      name in values ? values[name as LiveName] : whole,
    );
  }

  /**
   * Everything a request could change in storage. Excluded, because a rejected login must write
   * them: `login_failed` audit events (the audit trail of failed logins) and the throttle
   * counters (they are how failed logins get throttled), which are not listed here at all.
   */
  async function snapshot(): Promise<string> {
    const { storage } = server.services;
    const now = server.clock.now();
    // Sorted by ID: the manual clock gives many records one timestamp, and PostgreSQL orders
    // such ties differently from one query to the next.
    const byId = <T extends { id: string | number }>(items: readonly T[]) =>
      [...items].sort((a, b) => String(a.id).localeCompare(String(b.id)));
    const users = byId(await storage.listUsers({ limit: 1000 }));
    const sessions = await Promise.all(
      users.map(async (u) => byId(await storage.listActiveSessions(u.id, now))),
    );
    const audit = byId(await storage.listAudit({ limit: 1000 })).filter(
      (event) => event.type !== 'login_failed',
    );
    const revocations = [...(await storage.listRevocations({ after: 0, limit: 10_000 }))].sort(
      (a, b) => a.seq - b.seq,
    );
    const keys = [...(await storage.listSigningKeys())].sort((a, b) => a.kid.localeCompare(b.kid));
    return JSON.stringify({ users, sessions, audit, revocations, keys });
  }

  /** The records one snapshot has and the other has not, briefly. */
  function changes(before: string, after: string): string {
    const parts = (text: string) =>
      Object.entries(JSON.parse(text) as Record<string, unknown[]>).flatMap(([name, items]) =>
        items.flat().map((item) => `${name}: ${JSON.stringify(item)}`),
      );
    const [was, is] = [new Set(parts(before)), new Set(parts(after))];
    return [
      ...[...was].filter((p) => !is.has(p)).map((p) => `- ${p}`),
      ...[...is].filter((p) => !was.has(p)).map((p) => `+ ${p}`),
    ]
      .join('\n')
      .slice(0, 2000);
  }

  /** Whether the live credentials still authenticate (a successful request may end them). */
  async function stillWorking(values: Record<LiveName, string>): Promise<boolean> {
    const checks = [
      { url: '/v1/me', headers: { authorization: `Bearer ${values.userBearer}` } },
      { url: '/v1/me', headers: { authorization: `Bearer ${values.adminBearer}` } },
      { url: '/v1/session', headers: { cookie: `lk_session=${values.sessionSecret}` } },
    ];
    for (const check of checks) {
      if ((await server.app.inject(check)).statusCode !== 200) return false;
    }
    return true;
  }

  async function readBody(response: LightMyRequestResponse, streamed: boolean): Promise<string> {
    if (!streamed) return response.body;
    const stream = response.stream();
    if (String(response.headers['content-type']).startsWith('text/event-stream')) {
      // An open event stream never ends: its 200 is all there is to check.
      stream.destroy();
      return '';
    }
    let body = '';
    for await (const chunk of stream) body += String(chunk);
    return body;
  }

  function checkErrorBody(
    spec: RouteSpec | undefined,
    response: LightMyRequestResponse,
    body: string,
    label: string,
  ) {
    const status = response.statusCode;
    const type = String(response.headers['content-type'] ?? '');
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(body) as Record<string, unknown>;
    } catch {
      assert.fail(`${label}: ${status} body is not JSON: ${body.slice(0, 200)}`);
    }
    assert.ok(!/node_modules|\/work\/|\n\s+at /.test(body), `${label}: leaks internals: ${body}`);
    if (type.startsWith('application/problem+json')) {
      const { type: problemType, title, status: bodyStatus, code, detail, ...rest } = parsed;
      assert.deepEqual(rest, {}, `${label}: extra problem members`);
      assert.equal(typeof code, 'string', label);
      assert.equal(PROBLEM_STATUS[code as string], status, `${label}: ${body}`);
      assert.equal(problemType, `urn:latchkey:problem:${String(code)}`, label);
      assert.equal(typeof title, 'string', label);
      assert.equal(bodyStatus, status, label);
      assert.ok(detail === undefined || typeof detail === 'string', label);
      return;
    }
    assert.equal(spec?.errors, 'oauth', `${label}: ${status} ${type} is not problem+json: ${body}`);
    assert.match(type, /^application\/json/, label);
    const { error, error_description: description, ...rest } = parsed;
    assert.deepEqual(rest, {}, `${label}: extra OAuth members`);
    assert.ok(OAUTH_ERRORS.has(error as string), `${label}: ${body}`);
    assert.ok(description === undefined || typeof description === 'string', label);
    assert.equal(status, error === 'invalid_client' ? 401 : 400, `${label}: ${body}`);
  }

  /** Sends one request and checks every invariant; returns the status. */
  async function send(request: FuzzRequest): Promise<number> {
    const spec = routes[request.route]!;
    const values = await liveValues();
    let paramIndex = 0;
    const path = spec.url.replace(/:[A-Za-z]+/g, () =>
      encodeURIComponent(fill(request.params[paramIndex++] ?? 'x', values)),
    );
    const query = fill(request.query, values);
    const url = query === '' ? path : `${path}?${query}`;
    const method = request.method ?? spec.method;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers.extra))
      headers[name] = fill(value, values);
    const auth = request.headers.authorization;
    if (auth.kind === 'raw') headers['authorization'] = auth.value;
    if (auth.kind === 'basic') headers['authorization'] = BASIC;
    if (auth.kind === 'bearer')
      headers['authorization'] = `${auth.scheme}${values[auth.who]}${auth.suffix}`;
    let payload: string | Buffer | undefined;
    if (request.body) {
      payload =
        typeof request.body.payload === 'string'
          ? fill(request.body.payload, values)
          : request.body.payload;
      if (request.body.contentType !== undefined)
        headers['content-type'] = request.body.contentType;
    }
    const streamed = spec.url === '/v1/revocations/stream';
    const label = `${method} ${url.slice(0, 200)}`;

    const before = stored ?? (await snapshot());
    const response = await server.app.inject({
      method: method as 'GET',
      url,
      headers,
      ...(payload !== undefined ? { payload } : {}),
      ...(streamed ? { payloadAsStream: true } : {}),
    });
    const body = await readBody(response, streamed);
    const status = response.statusCode;

    assert.ok(status < 500, `${label}: ${status} ${body.slice(0, 300)}`);
    assert.equal(response.headers['x-content-type-options'], 'nosniff', label);
    if (status >= 400) {
      // The route that answered: another method on the same URL may be one too.
      const answering = routes.find(
        (r) =>
          r.url === spec.url && (r.method === method || (method === 'HEAD' && r.method === 'GET')),
      );
      if (method !== 'HEAD') checkErrorBody(answering, response, body, label);
    }
    stored = await snapshot();
    if (status >= 400 && stored !== before) {
      assert.fail(
        `${label}: a rejected request (${status}) changed storage: ${changes(before, stored)}`,
      );
    } else if (method !== 'GET' && method !== 'HEAD' && !(await stillWorking(values))) {
      // It ended the session, revoked a token or moved the epoch: mint anew.
      live = null;
    }
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined, `${label}: polluted`);
    assert.equal(prototypeShape(), pristinePrototypes, `${label}: prototypes changed`);
    const key = `${spec.method} ${spec.url}`;
    seen.set(key, (seen.get(key) ?? new Set()).add(status));
    return status;
  }

  async function assertHealthy() {
    const response = await server.app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(json(response), { status: 'ok' });
  }

  function requestArbitrary(parts: {
    headers?: fc.Arbitrary<Headers>;
    query?: fc.Arbitrary<string>;
    params?: fc.Arbitrary<string[]>;
    body?: (keys: readonly string[]) => fc.Arbitrary<Body | null>;
    method?: fc.Arbitrary<string | null>;
  }): fc.Arbitrary<FuzzRequest> {
    return fc.integer({ min: 0, max: routes.length - 1 }).chain((route) => {
      const spec = routes[route]!;
      const schemaBody = (spec.handler.schema?.body ?? {}) as {
        properties?: Record<string, unknown>;
      };
      const keys = [
        ...Object.keys(schemaBody.properties ?? {}),
        ...(spec.errors === 'oauth' ? OAUTH_PARAMS : []),
      ];
      const fieldKeys = keys.length > 0 ? keys : ['email', 'token'];
      return fc.record({
        route: fc.constant(route),
        method:
          parts.method ??
          fc.oneof(
            { weight: 12, arbitrary: fc.constant(null) },
            {
              weight: 1,
              arbitrary: fc.constantFrom(
                'PUT',
                'PATCH',
                'OPTIONS',
                'HEAD',
                'GET',
                'POST',
                'DELETE',
              ),
            },
          ),
        params: parts.params ?? fc.array(paramArbitrary, { minLength: 2, maxLength: 2 }),
        query: parts.query ?? queryArbitrary,
        headers: parts.headers ?? headersArbitrary,
        body: (parts.body ?? bodyArbitrary)(fieldKeys),
      });
    });
  }

  const plainHeaders = fc.constantFrom<Headers>(
    { authorization: { kind: 'none' }, extra: {} },
    {
      authorization: { kind: 'bearer', who: 'userBearer', scheme: 'Bearer ', suffix: '' },
      extra: {},
    },
    {
      authorization: { kind: 'bearer', who: 'adminBearer', scheme: 'Bearer ', suffix: '' },
      extra: {},
    },
    { authorization: { kind: 'basic' }, extra: {} },
    {
      authorization: { kind: 'none' },
      extra: {
        cookie: `lk_session=${marker('sessionSecret')}`,
        'x-csrf-token': marker('csrfToken'),
      },
    },
  );

  it('mints working credentials, so the fuzzing gets past authentication', async () => {
    const values = await liveValues();
    for (const authorization of [`Bearer ${values.userBearer}`, `Bearer ${values.adminBearer}`]) {
      const response = await server.app.inject({ url: '/v1/me', headers: { authorization } });
      assert.equal(response.statusCode, 200, response.body);
    }
    const cookie = await server.app.inject({
      url: '/v1/session',
      headers: { cookie: `lk_session=${values.sessionSecret}` },
    });
    assert.equal(cookie.statusCode, 200, cookie.body);
    const feed = await server.app.inject({
      url: '/v1/revocations',
      headers: { authorization: BASIC },
    });
    assert.equal(feed.statusCode, 200, feed.body);
    const users = await server.app.inject({
      url: '/v1/admin/users',
      headers: { authorization: `Bearer ${values.adminBearer}` },
    });
    assert.equal(users.statusCode, 200, users.body);
  });

  it(
    'answers the named hostile bodies on every route, anonymous and authenticated',
    { timeout: 120_000 },
    async () => {
      const anonymous: Headers = { authorization: { kind: 'none' }, extra: {} };
      const adminBearer: Headers = {
        authorization: { kind: 'bearer', who: 'adminBearer', scheme: 'Bearer ', suffix: '' },
        extra: {},
      };
      const resourceServer: Headers = { authorization: { kind: 'basic' }, extra: {} };
      const cookie: Headers = {
        authorization: { kind: 'none' },
        extra: {
          cookie: `lk_session=${marker('sessionSecret')}`,
          'x-csrf-token': marker('csrfToken'),
          origin: 'http://127.0.0.1:8080',
        },
      };
      for (let route = 0; route < routes.length; route++) {
        const { auth } = routes[route]!;
        const authentications =
          auth === 'resource_server'
            ? [anonymous, resourceServer]
            : auth === 'public'
              ? [anonymous, cookie]
              : [anonymous, adminBearer, cookie];
        for (const [, payload] of HOSTILE_BODIES) {
          const looksLikeForm = typeof payload === 'string' && /^[^{["\s]+=/.test(payload);
          for (const headers of authentications) {
            const request: FuzzRequest = {
              route,
              method: null,
              params: [marker('victimId'), 'x'],
              query: '',
              headers,
              body: {
                contentType: looksLikeForm
                  ? 'application/x-www-form-urlencoded'
                  : 'application/json',
                payload,
              },
            };
            await send(request);
          }
        }
      }
      await assertHealthy();
    },
  );

  it('takes bodies up to 16 KiB and answers 413 beyond, on every route that reads a body', async () => {
    const values = await liveValues();
    for (const spec of routes.filter((s) => s.method === 'POST')) {
      for (const size of [BODY_LIMIT - 1, BODY_LIMIT, BODY_LIMIT + 1]) {
        const prefix = '{"token":"';
        const payload = `${prefix}${'a'.repeat(size - prefix.length - 2)}"}`;
        assert.equal(Buffer.byteLength(payload), size);
        const response = await server.app.inject({
          method: 'POST',
          url: spec.url.replace(':id', victim.id),
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${values.adminBearer}`,
          },
          payload,
        });
        const label = `${spec.url} with ${size} bytes`;
        if (size > BODY_LIMIT) {
          assert.equal(response.statusCode, 413, `${label}: ${response.body}`);
          assert.equal(json(response)['code'], 'payload_too_large', label);
        } else {
          assert.notEqual(response.statusCode, 413, label);
          assert.ok(response.statusCode < 500, `${label}: ${response.body}`);
        }
      }
    }
  });

  it(
    'property: hostile requests of every kind, never a 5xx, a crash or a change on rejection',
    { timeout: 120_000 },
    async () => {
      await fc.assert(
        fc.asyncProperty(requestArbitrary({}), async (request) => {
          await send(request);
        }),
        { numRuns: 300 },
      );
      await assertHealthy();
    },
  );

  it(
    'property: hostile JSON and form bodies with working credentials',
    { timeout: 120_000 },
    async () => {
      await fc.assert(
        fc.asyncProperty(
          requestArbitrary({
            headers: plainHeaders,
            query: fc.constant(''),
            method: fc.constant(null),
            params: fc.constant([marker('victimId'), marker('victimSessionId')]),
          }),
          async (request) => {
            await send(request);
          },
        ),
        { numRuns: 300 },
      );
      await assertHealthy();
    },
  );

  it(
    'property: random headers (authorization, cookie, content-type, origin, CSRF)',
    { timeout: 120_000 },
    async () => {
      await fc.assert(
        fc.asyncProperty(
          requestArbitrary({
            query: fc.constant(''),
            method: fc.constant(null),
            body: (keys) =>
              fc.record({
                contentType: fc.oneof(fc.constantFrom(...CONTENT_TYPES), fieldValue(60)),
                payload: fc.constantFrom(
                  '{}',
                  '{"token":"x"}',
                  JSON.stringify(Object.fromEntries(keys.map((k) => [k, 'x']))),
                  'token=x',
                ),
              }),
          }),
          async (request) => {
            await send(request);
          },
        ),
        { numRuns: 200 },
      );
      await assertHealthy();
    },
  );

  it('property: random query strings and path parameters', { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(
        requestArbitrary({
          headers: plainHeaders,
          body: () => fc.constant(null),
          method: fc.constant(null),
        }),
        async (request) => {
          await send(request);
        },
      ),
      { numRuns: 200 },
    );
    await assertHealthy();
  });

  it(
    'property: __proto__, constructor and prototype anywhere pollute nothing',
    { timeout: 120_000 },
    async () => {
      const pollutingTree = fc.letrec<{ node: Tree; obj: Tree }>((tie) => ({
        node: fc.oneof(
          { depthSize: 'small' },
          fc.constant<Tree>({
            t: 'raw',
            text: '{"polluted":"yes","isAdmin":true,"roles":["admin"]}',
          }),
          tie('obj'),
          fc.array(tie('node'), { maxLength: 3 }).map((items): Tree => ({ t: 'arr', items })),
        ),
        obj: fc
          .array(
            fc.tuple(fc.constantFrom(...POLLUTION_KEYS, 'email', 'token', 'polluted'), tie('node')),
            {
              minLength: 1,
              maxLength: 4,
            },
          )
          .map((entries): Tree => ({ t: 'obj', entries })),
      })).obj;
      await fc.assert(
        fc.asyncProperty(
          requestArbitrary({
            headers: plainHeaders,
            method: fc.constant(null),
            query: fc.constantFrom(
              '',
              '__proto__[polluted]=1',
              'constructor[prototype][polluted]=1',
              '__proto__=1&constructor=2&prototype=3',
            ),
            body: () =>
              fc.oneof(
                fc.record({
                  contentType: fc.constant('application/json'),
                  payload: pollutingTree.map(render),
                }),
                fc.record({
                  contentType: fc.constant('application/x-www-form-urlencoded'),
                  payload: fc.constantFrom(
                    '__proto__=x&token=y',
                    '__proto__[polluted]=1&token=y',
                    'constructor[prototype][polluted]=1&grant_type=password',
                    'constructor=x&prototype=y&__proto__=z',
                  ),
                }),
              ),
          }),
          async (request) => {
            await send(request);
          },
        ),
        { numRuns: 200 },
      );
      assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
      assert.equal(([] as unknown as Record<string, unknown>)['polluted'], undefined);
      assert.equal(prototypeShape(), pristinePrototypes);
      await assertHealthy();
    },
  );

  it('reached every route, and past authentication on each that has some', () => {
    for (const spec of routes) {
      const statuses = seen.get(`${spec.method} ${spec.url}`);
      assert.ok(statuses, `${spec.method} ${spec.url} was never requested`);
      if (spec.auth !== 'public') {
        assert.ok(
          [...statuses].some((s) => s !== 401),
          `${spec.method} ${spec.url} only ever answered 401: ${[...statuses].join(', ')}`,
        );
      }
    }
  });

  // Fastify would answer these itself (its bad-URL and parameter-length defaults); the app's
  // frameworkErrors hands them to the one error mapper.
  it('answers a malformed percent-encoding in a path parameter with problem+json', async () => {
    for (const url of ['/v1/sessions/%zz', '/v1/sessions/%', '/v1/admin/users/%E0%A4%A/ban']) {
      const method = url.endsWith('/ban') ? 'POST' : 'DELETE';
      const response = await server.app.inject({ method, url });
      assert.equal(response.statusCode, 400, url);
      assert.match(String(response.headers['content-type']), /^application\/problem\+json/, url);
      assert.equal(json(response)['code'], 'validation_failed', url);
      assert.equal(response.headers['x-content-type-options'], 'nosniff', url);
    }
  });

  it('answers an over-long path parameter with problem+json', async () => {
    const response = await server.app.inject({
      method: 'DELETE',
      url: `/v1/sessions/${'a'.repeat(101)}`,
    });
    assert.ok(response.statusCode >= 400 && response.statusCode < 500, response.body);
    assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
    assert.equal(response.headers['x-content-type-options'], 'nosniff');
  });

  // No stored text can hold NUL (PostgreSQL refuses it): the edge refuses it everywhere.
  it('answers NUL characters in emails, IDs and cursors without a 5xx', async () => {
    const values = await liveValues();
    const asAdmin = { authorization: `Bearer ${values.adminBearer}` };
    const nulCursor = Buffer.from(JSON.stringify('a\u0000')).toString('base64url');
    const cases: [
      string,
      string,
      Record<string, string> | undefined,
      Record<string, string>,
      number,
    ][] = [
      ['POST', '/v1/session', { email: 'a\u0000@example.test', password: 'x' }, {}, 400],
      ['POST', '/v1/session', { email: `${holder.email}\u0000`, password: PASSWORD }, {}, 400],
      [
        'POST',
        '/v1/token',
        { grant_type: 'password', username: 'a\u0000b', password: 'x', client_id: 'api' },
        {},
        400,
      ],
      ['DELETE', '/v1/admin/sessions/a%00b', undefined, asAdmin, 400],
      ['GET', '/v1/admin/users/a%00b/sessions', undefined, asAdmin, 400],
      ['POST', '/v1/admin/users/a%00b/ban', undefined, asAdmin, 400],
      ['POST', '/v1/admin/users/a%00b/unban', undefined, asAdmin, 400],
      ['GET', '/v1/admin/audit?userId=a%00b', undefined, asAdmin, 400],
      ['GET', `/v1/admin/users?cursor=${nulCursor}`, undefined, asAdmin, 400],
    ];
    for (const [method, url, payload, headers, expected] of cases) {
      const response = await server.app.inject({
        method: method as 'GET',
        url,
        headers,
        ...(payload ? { payload } : {}),
      });
      assert.equal(response.statusCode, expected, `${method} ${url}: ${response.body}`);
    }
  });
});
