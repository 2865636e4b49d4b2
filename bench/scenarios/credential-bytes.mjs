// Rows: the bytes each credential adds to every request (the seed's payload-size row, measured):
// the exact `Cookie: lk_session=…` header line of a cookie session against the exact
// `Authorization: Bearer <jwt>` header line of an access token, per signing algorithm. All are
// real credentials from running servers (checked with GET /v1/me): the main server (EdDSA) and,
// for ES256, RS256 and HS256, one short-lived server each with `tokens.algorithm` set. Bytes are
// counted as HTTP/1.1 sends them: name, ": ", value and the CRLF. No timing here, so no
// measurement window.
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { createHttpClient } from '../lib/http.mjs';
import { expectStatus, latchkeyApi } from '../lib/latchkey-api.mjs';

const OTHER_ALGORITHMS = ['ES256', 'RS256', 'HS256'];
/** What the cookie is called whenever the issuer is https (API.md); here it is plain http. */
const SECURE_PREFIX = '__Host-';

const lineBytes = (name, value) => Buffer.byteLength(`${name}: ${value}\r\n`, 'latin1');

/** Sizes of a compact JWS and of its decoded JSON header and payload. */
function jwtParts(token) {
  const [header, payload, signature] = token.split('.');
  const json = (part) => Buffer.from(part, 'base64url').length;
  return {
    token: token.length,
    headerJson: json(header),
    payloadJson: json(payload),
    signature: Buffer.from(signature, 'base64url').length,
  };
}

/** The Authorization line of a password grant's token for `clientId`, checked on GET /v1/me. */
async function bearer(api, email, clientId) {
  const { access_token: token } = await api.login(email, undefined, clientId);
  expectStatus(await api.me(token), 200, `GET /v1/me with a ${clientId} token`);
  return { line: lineBytes('Authorization', `Bearer ${token}`), ...jwtParts(token) };
}

/** A server signing with `algorithm`: one sign-up and one password grant, then stopped. */
async function bearerFrom(ctx, algorithm) {
  const tokens =
    algorithm === 'HS256'
      ? { algorithm, hs256Secret: randomBytes(32).toString('base64url') }
      : { algorithm };
  const server = await ctx.startLatchkey(`latchkey-${algorithm}`, { tokens });
  const http = createHttpClient(server.url);
  try {
    if (server.info.algorithm !== algorithm) {
      throw new Error(`latchkey-${algorithm} signs with ${server.info.algorithm}`);
    }
    const api = latchkeyApi(http);
    const email = `bench-bytes-${algorithm.toLowerCase()}@example.com`;
    await api.signUp(email);
    return await bearer(api, email, 'app');
  } finally {
    http.close();
    await server.stop();
  }
}

export default {
  id: 'credential-bytes',
  schedule: 'once',
  storage: 'sqlite',
  needs: ['latchkey'],

  async measure(ctx) {
    const [user] = await ctx.users(1);
    const { pair, setCookie } = await ctx.api.sessionCookie(user.email);
    expectStatus(await ctx.api.meWith({ cookie: pair }), 200, 'GET /v1/me with a cookie');
    const [name, value] = pair.split(/=(.*)/s);
    const cookie = {
      name,
      line: lineBytes('Cookie', pair),
      value: value.length,
      setCookieLine: lineBytes('Set-Cookie', setCookie),
    };
    const bearers = {
      EdDSA: {
        ...(await bearer(ctx.api, user.email, 'app')),
        jwtClient: await bearer(ctx.api, user.email, 'api'),
      },
    };
    const others = await Promise.all(OTHER_ALGORITHMS.map((alg) => bearerFrom(ctx, alg)));
    OTHER_ALGORITHMS.forEach((alg, i) => (bearers[alg] = others[i]));
    return { cookie, bearers };
  },

  describe: (run) =>
    `cookie ${run.cookie.line} B; ` +
    Object.entries(run.bearers)
      .map(([alg, b]) => `${alg} ${b.line} B`)
      .join(', '),

  rows([run]) {
    const { cookie, bearers } = run;
    // Sizes do not depend on the machine's load: never marked disturbed.
    const disturbed = [false];
    const row = (id, label, value, detail) => ({
      id: `credential-bytes.${id}`,
      label,
      unit: 'B',
      value,
      perRun: [value],
      disturbed,
      detail,
      errors: 0,
    });
    return [
      row(
        'cookie',
        `Credential per request: \`Cookie: ${cookie.name}=…\` header line`,
        cookie.line,
        `value ${cookie.value} B (256-bit secret, base64url); over https the name is ` +
          `${SECURE_PREFIX}${cookie.name}: +${SECURE_PREFIX.length} B; ` +
          `once, at login: a ${cookie.setCookieLine}-byte Set-Cookie line; ` +
          'header lines counted with ": " and CRLF',
      ),
      ...Object.entries(bearers).map(([alg, b]) =>
        row(
          `bearer.${alg}`,
          `Credential per request: \`Authorization: Bearer <jwt>\` header line, ${alg}`,
          b.line,
          `${(b.line / cookie.line).toFixed(1)}× the cookie line; JWT ${b.token} B ` +
            `(JSON header ${b.headerJson} B, payload ${b.payloadJson} B, signature ${b.signature} B), ` +
            `client app (hybrid: with sid)` +
            (b.jwtClient
              ? `; client api (jwt, no sid): line ${b.jwtClient.line} B, JWT ${b.jwtClient.token} B`
              : ''),
        ),
      ),
    ];
  },
};
