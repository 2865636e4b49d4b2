// JWT attacks built on published vectors, then the RFC 8725 / OWASP JWT cheat sheet catalogue.
//
// External truth first: jose verifies every vector with its published key (and the deterministic
// RS256 and Ed25519 signatures are reproduced from the published private keys), which proves the
// transcription below. Then Latchkey must refuse each vector: it is not a Latchkey-issued at+jwt.
// Then a Latchkey that signs with the very same published key must still refuse it, because of
// its typ, iss, aud or claims; a control token per key shows the key really is in use, so each
// refusal is caused by the one thing that case changes.
//
// Not covered here: the RFC keys for HS256 (RFC 7515 A.1, RFC 7520 4.4) are binary, while
// `tokens.hs256Secret` is UTF-8 text, so no Latchkey can be configured with them; their vectors
// are only checked with jose and against a default Latchkey. Project Wycheproof's JWS vectors are
// in wycheproof-jws.test.ts.
// The forged-token cases of test/http/forged-tokens.test.ts (EdDSA) are not repeated.
import assert from 'node:assert/strict';
import {
  KeyObject,
  createHmac,
  createPrivateKey,
  createPublicKey,
  sign as signBytes,
  verify as verifyBytes,
} from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  EncryptJWT,
  SignJWT,
  UnsecuredJWT,
  calculateJwkThumbprint,
  compactVerify,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
  type JWK,
  type JWTPayload,
} from 'jose';
import type { SigningKeyRecord } from '../../src/core/model.js';
import {
  getMe,
  json,
  passwordGrant,
  signUp,
  startTestServer,
  type TestServer,
} from '../support/harness.js';

// ---------------------------------------------------------------------------------------------
// Published vectors, transcribed from the RFCs (line breaks of the RFC text removed).

/** RFC 7515 A.1-A.3 and A.5 share this payload: `{"iss":"joe",\r\n "exp":1300819380,...}`. */
const RFC7515_PAYLOAD_TEXT =
  '{"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}';
const RFC7515_PAYLOAD =
  'eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ';

/** RFC 7520 section 4 signs this text (note the U+2019 apostrophes). */
const RFC7520_PAYLOAD_TEXT =
  'It\u2019s a dangerous business, Frodo, going out your door. You step onto the road, and if ' +
  "you don't keep your feet, there\u2019s no knowing where you might be swept off to.";
const RFC7520_PAYLOAD =
  'SXTigJlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IHlvdXIgZG9vci4gWW91IHN0ZXAgb250' +
  'byB0aGUgcm9hZCwgYW5kIGlmIHlvdSBkb24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2hl' +
  'cmUgeW91IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0by4';

/** RFC 7515 A.2: the RSA key (its JWS JSON examples name it kid "2010-12-29"). */
const RFC7515_A2_KEY: JWK = {
  kty: 'RSA',
  n:
    'ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4' +
    'QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMd' +
    'bBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-' +
    'DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ',
  e: 'AQAB',
  d:
    'Eq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyWPEAeP88vLNO97IjlA7_GQ5sLKMgvfTeXZx9SE-7YwVol2NXOoA' +
    'Je46sui395IW_GO-pWJ1O0BkTGoVEn2bKVRUCgu-GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzjkn439X0M_V51gfpR' +
    'LI9JYanrC4D4qAdGcopV_0ZHHzQlBjudU2QvXt4ehNYTCBr6XCLQUShb1juUO1ZdiYoFaFQT5Tw8bGUl_x_jTj3ccPDVZF' +
    'D9pIuhLhBOneufuBiB4cS98l2SR_RQyGWSeWjnczT0QU91p1DhOVRuOopznQ',
  p:
    '4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH_5IB3jw3bcxGn6QLvnEtfdUdiYrqBdss1l58BQ3KhooKeQTa9AB0Hw_Py5PJd' +
    'TJNPY8cQn7ouZ2KKDcmnPGBY5t7yLc1QlQ5xHdwW1VhvKn-nXqhJTBgIPgtldC-KDV5z-y2XDwGUc',
  q:
    'uQPEfgmVtjL0Uyyx88GZFF1fOunH3-7cepKmtH4pxhtCoHqpWmT8YAmZxaewHgHAjLYsp1ZSe7zFYHj7C6ul7TjeLQeZD_' +
    'YwD66t62wDmpe_HlB-TnBA-njbglfIsRLtXlnDzQkv5dTltRJ11BKBBypeeF6689rjcJIDEz9RWdc',
  dp:
    'BwKfV3Akq5_MFZDFZCnW-wzl-CCo83WoZvnLQwCTeDv8uzluRSnm71I3QCLdhrqE2e9YkxvuxdBfpT_PI7Yz-FOKnu1R6H' +
    'sJeDCjn12Sk3vmAktV2zb34MCdy7cpdTh_YVr7tss2u6vneTwrA86rZtu5Mbr1C1XsmvkxHQAdYo0',
  dq:
    'h_96-mK1R_7glhsum81dZxjTnYynPbZpHziZjeeHcXYsXaaMwkOlODsWa7I9xXDoRwbKgB719rrmI2oKr6N3Do9U0ajaHF' +
    '-NKJnwgjMd2w9cjz3_-kyNlxAr2v4IKhGNpmM5iIgOS1VZnOZ68m6_pbLBSp3nssTdlqvd0tIiTHU',
  qi:
    'IYd7DHOhrWvxkwPQsRM2tOgrjbcrfvtQJipd-DlcxyVuuM9sQLdgjVk2oy26F0EmpScGLq2MowX7fhd_QJQ3ydy5cY7YIB' +
    'i87w93IKLEdfnbJtoOPLUW0ITrJReOgo1cq9SbsxYawBgfp_gh6A5603k2-ZQwVK0JKSHuLFkuQ3U',
};

/** RFC 7515 A.3: the P-256 key (kid "e9bc097a-ce51-4036-9562-d2ade882db0d" in A.6/A.7). */
const RFC7515_A3_KEY: JWK = {
  kty: 'EC',
  crv: 'P-256',
  x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
  y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
  d: 'jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI',
};

/** RFC 8037 A.1: the Ed25519 key; A.3 gives its RFC 7638 thumbprint. */
const RFC8037_KEY: JWK = {
  kty: 'OKP',
  crv: 'Ed25519',
  d: 'nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A',
  x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
};
const RFC8037_THUMBPRINT = 'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k';

/** RFC 7520 3.4: Bilbo's RSA key, used by section 4.1. */
const RFC7520_RSA_KEY: JWK = {
  kty: 'RSA',
  n:
    'n4EPtAOCc9AlkeQHPzHStgAbgs7bTZLwUBZdR8_KuKPEHLd4rHVTeT-O-XV2jRojdNhxJWTDvNd7nqQ0VEiZQHz_AJmSCp' +
    'MaJMRBSFKrKb2wqVwGU_NsYOYL-QtiWN2lbzcEe6XC0dApr5ydQLrHqkHHig3RBordaZ6Aj-oBHqFEHYpPe7Tpe-OfVfHd' +
    '1E6cS6M1FZcD1NNLYD5lFHpPI9bTwJlsde3uhGqC0ZCuEHg8lhzwOHrtIQbS0FVbb9k3-tVTU4fg_3L_vniUFAKwuCLqKn' +
    'S2BYwdq_mzSnbLY7h_qixoR7jig3__kRhuaxwUkRz5iaiQkqgc5gHdrNP5zw',
  e: 'AQAB',
  d:
    'bWUC9B-EFRIo8kpGfh0ZuyGPvMNKvYWNtB_ikiH9k20eT-O1q_I78eiZkpXxXQ0UTEs2LsNRS-8uJbvQ-A1irkwMSMkK1J' +
    '3XTGgdrhCku9gRldY7sNA_AKZGh-Q661_42rINLRCe8W-nZ34ui_qOfkLnK9QWDDqpaIsA-bMwWWSDFu2MUBYwkHTMEzLY' +
    'GqOe04noqeq1hExBTHBOBdkMXiuFhUq1BU6l-DqEiWxqg82sXt2h-LMnT3046AOYJoRioz75tSUQfGCshWTBnP5uDjd18kK' +
    'hyv07lhfSJdrPdM5Plyl21hsFf4L_mHCuoFau7gdsPfHPxxjVOcOpBrQzwQ',
  p:
    '3Slxg_DwTXJcb6095RoXygQCAZ5RnAvZlno1yhHtnUex_fp7AZ_9nRaO7HX_-SFfGQeutao2TDjDAWU4Vupk8rw9JR0AzZ' +
    '0N2fvuIAmr_WCsmGpeNqQnev1T7IyEsnh8UMt-n5CafhkikzhEsrmndH6LxOrvRJlsPp6Zv8bUq0k',
  q:
    'uKE2dh-cTf6ERF4k4e_jy78GfPYUIaUyoSSJuBzp3Cubk3OCqs6grT8bR_cu0Dm1MZwWmtdqDyI95HrUeq3MP15vMMON8l' +
    'HTeZu2lmKvwqW7anV5UzhM1iZ7z4yMkuUwFWoBvyY898EXvRD-hdqRxHlSqAZ192zB3pVFJ0s7pFc',
  dp:
    'B8PVvXkvJrj2L-GYQ7v3y9r6Kw5g9SahXBwsWUzp19TVlgI-YV85q1NIb1rxQtD-IsXXR3-TanevuRPRt5OBOdiMGQp8pb' +
    't26gljYfKU_E9xn-RULHz0-ed9E9gXLKD4VGngpz-PfQ_q29pk5xWHoJp009Qf1HvChixRX59ehik',
  dq:
    'CLDmDGduhylc9o7r84rEUVn7pzQ6PF83Y-iBZx5NT-TpnOZKF1pErAMVeKzFEl41DlHHqqBLSM0W1sOFbwTxYWZDm6sI6o' +
    'g5iTbwQGIC3gnJKbi_7k_vJgGHwHxgPaX2PnvP-zyEkDERuf-ry4c_Z11Cq9AqC2yeL6kdKT1cYF8',
  qi:
    '3PiqvXQN0zwMeE-sBvZgi289XP9XCQF3VWqPzMKnIgQp7_Tugo6-NZBKCQsMf3HaEGBjTVJs_jcK8-TRXvaKe-7ZMaQj8V' +
    'fBdYkssbu0NKDDhjJ-GtiseaDVWt7dcH0cfwxgFUHpQh7FoCrjFJ6h6ZEpMF6xmujs4qMpPz8aaI4',
};

interface Vector {
  readonly name: string;
  readonly alg: string;
  /** The published verification key (public parts only, or the oct key). */
  readonly key: JWK;
  readonly jws: string;
  readonly protectedHeader: string;
  readonly payload: string;
}

const VECTORS: readonly Vector[] = [
  {
    name: 'RFC 7515 A.1 (HS256)',
    alg: 'HS256',
    key: {
      kty: 'oct',
      k: 'AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow',
    },
    jws: `eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.${RFC7515_PAYLOAD}.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk`,
    protectedHeader: '{"typ":"JWT",\r\n "alg":"HS256"}',
    payload: RFC7515_PAYLOAD_TEXT,
  },
  {
    name: 'RFC 7515 A.2 (RS256)',
    alg: 'RS256',
    key: publicPart(RFC7515_A2_KEY),
    jws:
      `eyJhbGciOiJSUzI1NiJ9.${RFC7515_PAYLOAD}.` +
      'cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5j' +
      'ujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L0' +
      '7Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUip' +
      'UTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw',
    protectedHeader: '{"alg":"RS256"}',
    payload: RFC7515_PAYLOAD_TEXT,
  },
  {
    name: 'RFC 7515 A.3 (ES256)',
    alg: 'ES256',
    key: publicPart(RFC7515_A3_KEY),
    jws:
      `eyJhbGciOiJFUzI1NiJ9.${RFC7515_PAYLOAD}.` +
      'DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q',
    protectedHeader: '{"alg":"ES256"}',
    payload: RFC7515_PAYLOAD_TEXT,
  },
  {
    name: 'RFC 7515 A.4 (ES512, an algorithm Latchkey never accepts)',
    alg: 'ES512',
    key: {
      kty: 'EC',
      crv: 'P-521',
      x: 'AekpBQ8ST8a8VcfVOTNl353vSrDCLLJXmPk06wTjxrrjcBpXp5EOnYG_NjFZ6OvLFV1jSfS9tsz4qUxcWceqwQGk',
      y: 'ADSmRA43Z1DSNx_RvcLI87cdL07l6jQyyBXMoxVg_l2Th-x3S1WDhjDly79ajL4Kkd0AZMaZmh9ubmf63e3kyMj2',
    },
    jws:
      'eyJhbGciOiJFUzUxMiJ9.UGF5bG9hZA.AdwMgeerwtHoh-l192l60hp9wAHZFVJbLfD_UxMi70cwnZOYaRI1bKPWROc-' +
      'mZZqwqT2SI-KGDKB34XO0aw_7XdtAG8GaSwFKdCAPZgoXD2YBJZCPEX3xKpRwcdOO8KpEHwJjyqOgzDO7iKvU8vcnwNrmx' +
      'YbSW9ERBXukOXolLzeO_Jn',
    protectedHeader: '{"alg":"ES512"}',
    payload: 'Payload',
  },
  {
    name: 'RFC 8037 A.4/A.5 (EdDSA, Ed25519)',
    alg: 'EdDSA',
    key: publicPart(RFC8037_KEY),
    jws:
      'eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3' +
      'AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg',
    protectedHeader: '{"alg":"EdDSA"}',
    payload: 'Example of Ed25519 signing',
  },
  {
    name: 'RFC 7520 4.1 (RS256 with kid)',
    alg: 'RS256',
    key: publicPart(RFC7520_RSA_KEY),
    jws:
      `eyJhbGciOiJSUzI1NiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9.${RFC7520_PAYLOAD}.` +
      'MRjdkly7_-oTPTS3AXP41iQIGKa80A0ZmTuV5MEaHoxnW2e5CZ5NlKtainoFmKZopdHM1O2U4mwzJdQx996ivp83xuglII' +
      '7PNDi84wnB-BDkoBwA78185hX-Es4JIwmDLJK3lfWRa-XtL0RnltuYv746iYTh_qHRD68BNt1uSNCrUCTJDt5aAE6x8wW1' +
      'Kt9eRo4QPocSadnHXFxnt8Is9UzpERV0ePPQdLuW3IS_de3xyIrDaLGdjluPxUAhb6L2aXic1U12podGU0KLUQSE_oI-Zn' +
      'mKJ3F4uOZDnd6QZWJushZ41Axf_fcIe8u9ipH84ogoree7vjbU5y18kDquDg',
    protectedHeader: '{"alg":"RS256","kid":"bilbo.baggins@hobbiton.example"}',
    payload: RFC7520_PAYLOAD_TEXT,
  },
  {
    name: 'RFC 7520 4.4 (HS256 with kid)',
    alg: 'HS256',
    key: {
      kty: 'oct',
      kid: '018c0ae5-4d9b-471b-bfd6-eef314bc7037',
      k: 'hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG-Onbc6mxCcYg',
    },
    jws:
      `eyJhbGciOiJIUzI1NiIsImtpZCI6IjAxOGMwYWU1LTRkOWItNDcxYi1iZmQ2LWVlZjMxNGJjNzAzNyJ9.${RFC7520_PAYLOAD}.` +
      's0h6KThzkfBBBkLspW1h84VsJZFTsPPqMDA7g1Md7p0',
    protectedHeader: '{"alg":"HS256","kid":"018c0ae5-4d9b-471b-bfd6-eef314bc7037"}',
    payload: RFC7520_PAYLOAD_TEXT,
  },
];

function vector(name: string): Vector {
  const found = VECTORS.find((v) => v.name === name);
  if (!found) throw new Error(`no vector ${name}`);
  return found;
}

/** RFC 7515 A.5: the unsecured JWS example (alg "none", empty signature). */
const RFC7515_A5 = `eyJhbGciOiJub25lIn0.${RFC7515_PAYLOAD}.`;

// ---------------------------------------------------------------------------------------------
// Helpers

function publicPart(jwk: JWK): JWK {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...rest } = jwk;
  return rest;
}

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
const b64 = (value: string | Uint8Array | Record<string, unknown>): string =>
  Buffer.from(
    typeof value === 'string' || value instanceof Uint8Array ? value : JSON.stringify(value),
  ).toString('base64url');

type SigningKey = KeyObject | Uint8Array;

/**
 * A compact JWS over exactly these header and payload parts, signed with node:crypto rather than
 * jose, so headers jose would refuse to produce (crit, b64, none, empty HMAC keys) can be built.
 */
function signParts(alg: string, key: SigningKey, header: string, payload: string): string {
  const input = Buffer.from(`${header}.${payload}`);
  let signature: Buffer;
  if (alg === 'HS256') {
    signature = createHmac('sha256', key).update(input).digest();
  } else if (alg === 'RS256') {
    signature = signBytes('sha256', input, key as KeyObject);
  } else if (alg === 'ES256') {
    signature = signBytes('sha256', input, { key: key as KeyObject, dsaEncoding: 'ieee-p1363' });
  } else if (alg === 'EdDSA') {
    signature = signBytes(null, input, key as KeyObject);
  } else {
    throw new Error(`no signer for ${alg}`);
  }
  return `${header}.${payload}.${signature.toString('base64url')}`;
}

function signToken(
  alg: string,
  key: SigningKey,
  header: Record<string, unknown>,
  payload: string | Record<string, unknown>,
): string {
  return signParts(alg, key, b64(header), b64(payload));
}

const privateKey = (jwk: JWK): KeyObject => createPrivateKey({ key: jwk as never, format: 'jwk' });

const RS_ID = 'vectors-rs';
const RS_SECRET = 'vectors-resource-server-secret-0123456789';
const BASIC = `Basic ${Buffer.from(`${RS_ID}:${RS_SECRET}`).toString('base64')}`;

/** One Latchkey, a user on it, and how it answers a bad token. */
interface Target {
  readonly server: TestServer;
  readonly user: { id: string; email: string };
  /** Claims of a genuine token from this server, for forgeries that change one thing. */
  readonly claims: JWTPayload;
  readonly refusal: string;
}

async function startTarget(config: Record<string, unknown> = {}): Promise<Target> {
  const server = await startTestServer({
    resourceServers: [{ id: RS_ID, secret: RS_SECRET }],
    ...config,
  });
  const user = await signUp(server);
  const reference = await getMe(server, 'not.a.token');
  assert.equal(reference.statusCode, 401);
  return {
    server,
    user,
    claims: decodeJwt((await passwordGrant(server, user.email, 'api')).access_token),
    refusal: reference.body,
  };
}

/** Makes a published key the server's current signing key, as `keys rotate` would. */
async function installKey(
  server: TestServer,
  jwk: JWK,
  kid: string,
  alg: SigningKeyRecord['alg'],
): Promise<void> {
  const now = server.clock.now();
  await server.services.storage.addSigningKey(
    {
      kid,
      alg,
      publicJwk: JSON.stringify({ ...publicPart(jwk), kid, alg, use: 'sig' }),
      privateJwk: JSON.stringify(jwk),
      createdAt: now,
      retiredAt: null,
    },
    now,
  );
  await server.services.keys.reload();
  assert.equal(server.services.keys.signingKey().kid, kid);
}

function introspect(server: TestServer, token: string) {
  return server.app.inject({
    method: 'POST',
    url: '/v1/token/introspect',
    headers: { authorization: BASIC },
    payload: { token },
  });
}

/** The one RFC 6750 refusal on /v1/me, and `{active: false}` from introspection. */
async function assertRefused(target: Target, token: string, label: string): Promise<void> {
  const response = await getMe(target.server, token);
  assert.equal(response.statusCode, 401, `${label}: ${response.body}`);
  assert.equal(response.headers['www-authenticate'], 'Bearer error="invalid_token"', label);
  assert.equal(response.body, target.refusal, label);
  const introspection = await introspect(target.server, token);
  assert.equal(introspection.statusCode, 200, `${label}: ${introspection.body}`);
  assert.deepEqual(json(introspection), { active: false }, label);
}

async function assertAccepted(target: Target, token: string, label: string): Promise<void> {
  const response = await getMe(target.server, token);
  assert.equal(response.statusCode, 200, `${label}: ${response.body}`);
  assert.equal((json(response)['user'] as { id: string }).id, target.user.id, label);
  const introspection = await introspect(target.server, token);
  assert.equal(json(introspection)['active'], true, label);
}

let jtiCounter = 0;
/** Genuine claims of the target's user with a fresh `jti`, so no case hits another's cache. */
function claimsOf(target: Target, changes: Record<string, unknown> = {}): Record<string, unknown> {
  const nowSeconds = Math.floor(target.server.clock.now() / 1000);
  return {
    ...target.claims,
    iat: nowSeconds,
    exp: nowSeconds + 300,
    jti: `vector-${++jtiCounter}`,
    ...changes,
  };
}

// ---------------------------------------------------------------------------------------------

describe('published JWS vectors: jose verifies each with its published key', () => {
  for (const vector of VECTORS) {
    it(vector.name, async () => {
      const key = await importJWK(vector.key, vector.alg);
      const { payload, protectedHeader } = await compactVerify(vector.jws, key, {
        algorithms: [vector.alg],
      });
      assert.equal(text(payload), vector.payload);
      const [header] = vector.jws.split('.');
      assert.equal(Buffer.from(header!, 'base64url').toString('utf8'), vector.protectedHeader);
      assert.equal(protectedHeader.alg, vector.alg);
      // A flipped bit anywhere in the signature is refused, so the check above is not vacuous.
      const tampered = vector.jws.slice(0, -2) + (vector.jws.at(-2) === 'A' ? 'B' : 'A') + 'A';
      await assert.rejects(compactVerify(tampered, key, { algorithms: [vector.alg] }));
    });
  }

  it('RFC 7515 A.5: the unsecured example decodes as an unsecured JWT and nothing else', async () => {
    const { payload, header } = UnsecuredJWT.decode(RFC7515_A5, {
      currentDate: new Date(1_300_819_379_000),
    });
    assert.deepEqual(header, { alg: 'none' });
    assert.equal(payload.iss, 'joe');
    const key = await importJWK(publicPart(RFC8037_KEY), 'EdDSA');
    await assert.rejects(compactVerify(RFC7515_A5, key));
  });

  it('the published private keys reproduce the deterministic signatures (RS256, Ed25519)', () => {
    for (const [name, alg, jwk] of [
      ['RFC 7515 A.2 (RS256)', 'RS256', RFC7515_A2_KEY],
      ['RFC 7520 4.1 (RS256 with kid)', 'RS256', RFC7520_RSA_KEY],
      ['RFC 8037 A.4/A.5 (EdDSA, Ed25519)', 'EdDSA', RFC8037_KEY],
    ] as const) {
      const { jws } = vector(name);
      const [header, payload] = jws.split('.') as [string, string];
      assert.equal(signParts(alg, privateKey(jwk), header, payload), jws, name);
    }
  });

  it('the published ES256 private key belongs to its public key', () => {
    const message = Buffer.from('latchkey');
    const signature = signBytes('sha256', message, privateKey(RFC7515_A3_KEY));
    const publicKey = createPublicKey({ key: publicPart(RFC7515_A3_KEY) as never, format: 'jwk' });
    assert.ok(verifyBytes('sha256', message, publicKey, signature));
  });

  it('RFC 8037 A.3: the Ed25519 key has the published thumbprint', async () => {
    assert.equal(await calculateJwkThumbprint(publicPart(RFC8037_KEY)), RFC8037_THUMBPRINT);
  });
});

describe('a default Latchkey refuses every published vector', () => {
  let target: Target;
  before(async () => {
    target = await startTarget();
  });
  after(() => target.server.close());

  for (const vector of [...VECTORS.map((v) => [v.name, v.jws]), ['RFC 7515 A.5', RFC7515_A5]]) {
    it(`refuses ${vector[0]}`, async () => {
      await assertRefused(target, vector[1]!, vector[0]!);
    });
  }
});

/**
 * For each key a Latchkey can hold, a server that signs with the published key: its own tokens
 * work, the published vectors and every one-change forgery with that key do not.
 */
const PUBLISHED_KEY_SERVERS = [
  {
    alg: 'EdDSA',
    keys: [{ jwk: RFC8037_KEY, kid: RFC8037_THUMBPRINT }],
    vectors: ['RFC 8037 A.4/A.5 (EdDSA, Ed25519)'],
  },
  {
    alg: 'ES256',
    keys: [{ jwk: RFC7515_A3_KEY, kid: 'e9bc097a-ce51-4036-9562-d2ade882db0d' }],
    vectors: ['RFC 7515 A.3 (ES256)'],
  },
  {
    alg: 'RS256',
    // The A.2 key is installed first and so retired (still verifying), Bilbo's signs.
    keys: [
      { jwk: RFC7515_A2_KEY, kid: '2010-12-29' },
      { jwk: RFC7520_RSA_KEY, kid: 'bilbo.baggins@hobbiton.example' },
    ],
    vectors: ['RFC 7515 A.2 (RS256)', 'RFC 7520 4.1 (RS256 with kid)'],
  },
] as const;

for (const setup of PUBLISHED_KEY_SERVERS) {
  describe(`a Latchkey signing with the published ${setup.alg} key`, () => {
    let target: Target;
    before(async () => {
      const server = await startTestServer({
        tokens: { algorithm: setup.alg },
        resourceServers: [{ id: RS_ID, secret: RS_SECRET }],
      });
      for (const { jwk, kid } of setup.keys) await installKey(server, jwk, kid, setup.alg);
      const user = await signUp(server);
      const reference = await getMe(server, 'not.a.token');
      target = {
        server,
        user,
        claims: decodeJwt((await passwordGrant(server, user.email, 'api')).access_token),
        refusal: reference.body,
      };
    });
    after(() => target.server.close());

    it('issues tokens with that key, which the published public key verifies', async () => {
      const { access_token: token } = await passwordGrant(target.server, target.user.email, 'api');
      const current = setup.keys.at(-1)!;
      assert.equal(decodeProtectedHeader(token).kid, current.kid);
      const published = await importJWK(publicPart(current.jwk), setup.alg);
      await jwtVerify(token, published, { typ: 'at+jwt', issuer: target.server.config.issuer });
      await assertAccepted(target, token, 'own token');
      const jwks = json(await target.server.app.inject({ url: '/.well-known/jwks.json' }));
      const served = (jwks['keys'] as JWK[]).find((k) => k.kid === current.kid);
      assert.ok(served, 'the published key is in the JWKS');
      assert.equal(served.d, undefined, 'and only its public part');
    });

    for (const name of setup.vectors) {
      it(`refuses the published vector ${name} although it holds its key`, async () => {
        await assertRefused(target, vector(name).jws, name);
      });
    }

    it('refuses tokens signed with the published key that differ from its own in one thing', async () => {
      for (const { jwk, kid } of setup.keys) {
        const key = privateKey(jwk);
        const header = { alg: setup.alg, kid, typ: 'at+jwt' };
        const control = signToken(setup.alg, key, header, claimsOf(target));
        await assertAccepted(target, control, `control with kid ${kid}`);
        const { iss: _iss, ...withoutIss } = claimsOf(target);
        const { aud: _aud, ...withoutAud } = claimsOf(target);
        const nowSeconds = Math.floor(target.server.clock.now() / 1000);
        const cases: [string, Record<string, unknown>, string | Record<string, unknown>][] = [
          ['the RFC header with a kid (no typ)', { alg: setup.alg, kid }, claimsOf(target)],
          ['typ "JWT" as in RFC 7515 A.1', { ...header, typ: 'JWT' }, claimsOf(target)],
          ['the RFC 7515 claims', header, RFC7515_PAYLOAD_TEXT],
          ['iss "joe"', header, claimsOf(target, { iss: 'joe' })],
          ['no iss', header, withoutIss],
          ['no aud', header, withoutAud],
          ['the RFC exp (2011)', header, claimsOf(target, { exp: 1_300_819_380 })],
          [
            'an RFC 7515 claim added, exp of 2011',
            header,
            claimsOf(target, {
              'http://example.com/is_root': true,
              iat: 1_300_819_000,
              exp: 1_300_819_380,
            }),
          ],
          ['exp one leeway past now', header, claimsOf(target, { exp: nowSeconds - 2 })],
        ];
        for (const [label, forgedHeader, payload] of cases) {
          await assertRefused(
            target,
            signToken(setup.alg, key, forgedHeader, payload),
            `${label}, kid ${kid}`,
          );
        }
      }
    });
  });
}

describe('RFC 8725 / OWASP attacks on an RS256 Latchkey with a published key', () => {
  const kid = 'bilbo.baggins@hobbiton.example';
  let target: Target;
  let key: KeyObject;
  before(async () => {
    const server = await startTestServer({
      tokens: { algorithm: 'RS256' },
      resourceServers: [{ id: RS_ID, secret: RS_SECRET }],
    });
    await installKey(server, RFC7520_RSA_KEY, kid, 'RS256');
    const user = await signUp(server);
    target = {
      server,
      user,
      claims: decodeJwt((await passwordGrant(server, user.email, 'api')).access_token),
      refusal: (await getMe(server, 'not.a.token')).body,
    };
    key = privateKey(RFC7520_RSA_KEY);
  });
  after(() => target.server.close());

  const header = () => ({ alg: 'RS256', kid, typ: 'at+jwt' });

  it('accepts a well-formed token signed with the key (the attacks below are controlled)', async () => {
    await assertAccepted(target, signToken('RS256', key, header(), claimsOf(target)), 'control');
  });

  it('alg confusion: refuses HS256 keyed with the RS256 public key in every encoding', async () => {
    const publicKey = createPublicKey(key);
    const served = json(await target.server.app.inject({ url: '/.well-known/jwks.json' }));
    const servedJwk = (served['keys'] as JWK[]).find((k) => k.kid === kid)!;
    const spki = String(publicKey.export({ type: 'spki', format: 'pem' }));
    const pkcs1 = String(publicKey.export({ type: 'pkcs1', format: 'pem' }));
    const secrets: [string, Uint8Array][] = [
      ['SPKI PEM', Buffer.from(spki)],
      ['SPKI PEM without the final newline', Buffer.from(spki.trimEnd())],
      ['PKCS#1 PEM', Buffer.from(pkcs1)],
      ['SPKI DER', publicKey.export({ type: 'spki', format: 'der' })],
      ['PKCS#1 DER', publicKey.export({ type: 'pkcs1', format: 'der' })],
      ['modulus bytes', Buffer.from(RFC7520_RSA_KEY.n!, 'base64url')],
      ['modulus text', Buffer.from(RFC7520_RSA_KEY.n!)],
      ['JWKS entry JSON', Buffer.from(JSON.stringify(servedJwk))],
      ['RFC JWK JSON', Buffer.from(JSON.stringify(publicPart(RFC7520_RSA_KEY)))],
    ];
    for (const [label, secret] of secrets) {
      const forgedHeaders: Record<string, unknown>[] = [
        { ...header(), alg: 'HS256' },
        { alg: 'HS256', typ: 'at+jwt' },
        { alg: 'HS256', kid: '2010-12-29', typ: 'at+jwt' },
      ];
      for (const forgedHeader of forgedHeaders) {
        const token = signToken(
          'HS256',
          secret,
          forgedHeader,
          claimsOf(target, { roles: ['admin'] }),
        );
        await assertRefused(target, token, `HS256 with ${label}, kid ${String(forgedHeader.kid)}`);
      }
    }
  });

  it('alg none: refuses the RFC 7515 A.5 example and unsecured Latchkey-shaped tokens', async () => {
    await assertRefused(target, RFC7515_A5, 'RFC 7515 A.5');
    for (const alg of ['none', 'None', 'NONE']) {
      const unsigned = `${b64({ ...header(), alg })}.${b64(claimsOf(target))}`;
      await assertRefused(target, `${unsigned}.`, `${alg}, empty signature`);
      const signed = signToken('RS256', key, header(), claimsOf(target)).split('.')[2]!;
      await assertRefused(target, `${unsigned}.${signed}`, `${alg}, a real signature`);
    }
  });

  it('refuses a crit header naming an extension it does not understand', async () => {
    const cases: [string, Record<string, unknown>][] = [
      [
        'unknown extension',
        { ...header(), crit: ['urn:example:unknown'], 'urn:example:unknown': 1 },
      ],
      ['unknown extension, absent from the header', { ...header(), crit: ['urn:example:absent'] }],
      ['a registered claim name', { ...header(), crit: ['exp'], exp: 1 }],
      ['an empty list', { ...header(), crit: [] }],
      ['not a list', { ...header(), crit: 'urn:example:unknown' }],
    ];
    for (const [label, forgedHeader] of cases) {
      await assertRefused(target, signToken('RS256', key, forgedHeader, claimsOf(target)), label);
    }
  });

  it('refuses unencoded payloads (RFC 7797 b64: false)', async () => {
    const claims = JSON.stringify(claimsOf(target));
    const encoded = b64(claims);
    const b64Header = b64({ ...header(), b64: false, crit: ['b64'] });
    // The raw payload is not compact-safe; the base64url text as a raw payload has the same
    // signing input as an ordinary token, so only the header says how to read it.
    await assertRefused(target, signParts('RS256', key, b64Header, claims), 'raw JSON payload');
    await assertRefused(target, signParts('RS256', key, b64Header, encoded), 'b64url text as raw');
    // (`b64: false` without `crit` is ignored as RFC 7797 section 6 says, leaving an ordinary
    // token under the server's own signature: not an attack, so not a case here.)
    const detached = signParts('RS256', key, b64Header, claims).split('.');
    await assertRefused(target, `${detached[0]}..${detached[2]}`, 'detached payload');
  });

  it('refuses a JWE (five segments) carrying valid claims, even one encrypted to its own key', async () => {
    const claims = claimsOf(target);
    const toServerKey = await new EncryptJWT(claims)
      .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', typ: 'at+jwt', kid })
      .encrypt(createPublicKey(key));
    assert.equal(toServerKey.split('.').length, 5);
    await assertRefused(target, toServerKey, 'RSA-OAEP-256 to the signing key');
    const direct = await new EncryptJWT(claims)
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', typ: 'at+jwt', kid })
      .encrypt(new Uint8Array(32));
    await assertRefused(target, direct, 'dir with a zero key');
  });

  it('refuses nested JWTs: a signed token whose payload is a token', async () => {
    const genuine = (await passwordGrant(target.server, target.user.email, 'api')).access_token;
    await assertAccepted(target, genuine, 'the inner token alone');
    const attacker = await generateKeyPair('RS256', { extractable: true });
    const cases: [string, SigningKey, Record<string, unknown>, string][] = [
      ['genuine token inside, cty JWT', key, { ...header(), cty: 'JWT' }, genuine],
      ['genuine token inside, no cty', key, header(), genuine],
      ['RFC 7515 A.2 inside', key, { ...header(), cty: 'JWT' }, vector('RFC 7515 A.2 (RS256)').jws],
      [
        'genuine token inside, attacker key',
        KeyObject.from(attacker.privateKey),
        { ...header(), cty: 'JWT' },
        genuine,
      ],
    ];
    for (const [label, signingKey, forgedHeader, inner] of cases) {
      await assertRefused(target, signToken('RS256', signingKey, forgedHeader, inner), label);
    }
  });

  it('refuses kid path traversal and SQL injection, and the key store is untouched', async () => {
    const keysBefore = await target.server.services.storage.listSigningKeys();
    const attackerKey = KeyObject.from(
      (await generateKeyPair('RS256', { extractable: true })).privateKey,
    );
    const kids = [
      '../../../../../../../dev/null',
      '/dev/null',
      '..\\..\\..\\windows\\win.ini',
      "' OR '1'='1",
      "x' UNION SELECT 'secret' --",
      '"; DROP TABLE signing_keys; --',
      `${kid}' --`,
      `${kid}\u0000`,
      '%00',
      'file:///etc/passwd',
      'https://attacker.example/key.pem',
      '',
    ];
    for (const forgedKid of kids) {
      for (const [label, secret] of [
        ['empty key', new Uint8Array(0)],
        ['"secret"', Buffer.from('secret')],
        ['the kid as key', Buffer.from(forgedKid)],
      ] as const) {
        const token = signToken(
          'HS256',
          secret,
          { alg: 'HS256', kid: forgedKid, typ: 'at+jwt' },
          claimsOf(target, { roles: ['admin'] }),
        );
        await assertRefused(target, token, `kid ${JSON.stringify(forgedKid)}, ${label}`);
      }
      const token = signToken(
        'RS256',
        attackerKey,
        { ...header(), kid: forgedKid },
        claimsOf(target),
      );
      await assertRefused(target, token, `kid ${JSON.stringify(forgedKid)}, attacker RS256`);
    }
    assert.deepEqual(await target.server.services.storage.listSigningKeys(), keysBefore);
  });

  it('ignores jku, x5u, jwk and x5c headers that point to an attacker key', async () => {
    const attacker = await generateKeyPair('RS256', { extractable: true });
    const attackerJwk = await exportJWK(attacker.publicKey);
    const attackerKid = await calculateJwkThumbprint(attackerJwk);
    const attackerSpki = KeyObject.from(attacker.publicKey)
      .export({ type: 'spki', format: 'der' })
      .toString('base64');
    const signer = KeyObject.from(attacker.privateKey);
    const headers: [string, Record<string, unknown>][] = [
      ['jku', { ...header(), jku: 'https://attacker.example/jwks.json' }],
      ['jku, own kid', { ...header(), kid: attackerKid, jku: 'https://attacker.example/jwks' }],
      ['x5u', { ...header(), x5u: 'https://attacker.example/cert.pem' }],
      ['jwk', { ...header(), jwk: attackerJwk }],
      [
        'jwk, own kid',
        { ...header(), kid: attackerKid, jwk: { ...attackerJwk, kid: attackerKid } },
      ],
      ['jwk, no kid', { alg: 'RS256', typ: 'at+jwt', jwk: attackerJwk }],
      // A certificate is never parsed: the attacker's key bytes stand in for one.
      ['x5c', { ...header(), x5c: [attackerSpki] }],
      ['x5c, no kid', { alg: 'RS256', typ: 'at+jwt', x5c: [attackerSpki] }],
      ['x5t#S256', { ...header(), 'x5t#S256': attackerKid }],
    ];
    for (const [label, forgedHeader] of headers) {
      await assertRefused(
        target,
        signToken('RS256', signer, forgedHeader, claimsOf(target, { roles: ['admin'] })),
        label,
      );
    }
  });

  it('refuses a lifetime or issue time it never gives, even under its own signature', async () => {
    const nowSeconds = Math.floor(target.server.clock.now() / 1000);
    const cases: [string, string | Record<string, unknown>][] = [
      ['exp in ten years', claimsOf(target, { exp: nowSeconds + 10 * 365 * 86_400 })],
      ['exp at 2^53 - 1', claimsOf(target, { exp: Number.MAX_SAFE_INTEGER })],
      ['exp at 1e20', claimsOf(target, { exp: 1e20 })],
      // JSON allows what JavaScript reads as Infinity.
      ['exp 1e400', JSON.stringify(claimsOf(target)).replace(/"exp":\d+/, '"exp":1e400')],
      ['nbf in an hour', claimsOf(target, { nbf: nowSeconds + 3600 })],
      ['nbf just beyond the leeway', claimsOf(target, { nbf: nowSeconds + 3 })],
      ['iat in an hour', claimsOf(target, { iat: nowSeconds + 3600, exp: nowSeconds + 3900 })],
      ['iat a minute ahead', claimsOf(target, { iat: nowSeconds + 60, exp: nowSeconds + 360 })],
      ['iat 1e20', claimsOf(target, { iat: 1e20, exp: 1e20 + 300 })],
    ];
    for (const [label, payload] of cases) {
      await assertRefused(target, signToken('RS256', key, header(), payload), label);
    }
    // What Latchkey itself issues right after an epoch move: iat at the next whole second.
    await assertAccepted(
      target,
      signToken('RS256', key, header(), claimsOf(target, { iat: nowSeconds + 1 })),
      'iat at the next whole second',
    );
  });
});

describe('RFC 8725 / OWASP attacks on ES256 and HS256 Latchkeys', () => {
  it('alg confusion: refuses HS256 keyed with the ES256 public key', async () => {
    const kid = 'e9bc097a-ce51-4036-9562-d2ade882db0d';
    const server = await startTestServer({
      tokens: { algorithm: 'ES256' },
      resourceServers: [{ id: RS_ID, secret: RS_SECRET }],
    });
    try {
      await installKey(server, RFC7515_A3_KEY, kid, 'ES256');
      const user = await signUp(server);
      const target: Target = {
        server,
        user,
        claims: decodeJwt((await passwordGrant(server, user.email, 'api')).access_token),
        refusal: (await getMe(server, 'not.a.token')).body,
      };
      const publicKey = createPublicKey(privateKey(RFC7515_A3_KEY));
      const point = Buffer.concat([
        Buffer.from([4]),
        Buffer.from(RFC7515_A3_KEY.x!, 'base64url'),
        Buffer.from(RFC7515_A3_KEY.y!, 'base64url'),
      ]);
      const secrets: [string, Uint8Array][] = [
        ['SPKI PEM', Buffer.from(publicKey.export({ type: 'spki', format: 'pem' }))],
        ['SPKI DER', publicKey.export({ type: 'spki', format: 'der' })],
        ['uncompressed point', point],
        ['JWK JSON', Buffer.from(JSON.stringify(publicPart(RFC7515_A3_KEY)))],
      ];
      for (const [label, secret] of secrets) {
        const token = signToken(
          'HS256',
          secret,
          { alg: 'HS256', kid, typ: 'at+jwt' },
          claimsOf(target, { roles: ['admin'] }),
        );
        await assertRefused(target, token, `HS256 with ${label}`);
      }
      const control = signToken(
        'ES256',
        privateKey(RFC7515_A3_KEY),
        { alg: 'ES256', kid, typ: 'at+jwt' },
        claimsOf(target),
      );
      await assertAccepted(target, control, 'ES256 control');
    } finally {
      await server.close();
    }
  });

  it('refuses tokens signed with a weak or empty HMAC key', async () => {
    const secret = 'hs256-vectors-secret-with-more-than-32-bytes';
    const target = await startTarget({ tokens: { algorithm: 'HS256', hs256Secret: secret } });
    try {
      const genuine = (await passwordGrant(target.server, target.user.email, 'api')).access_token;
      const { kid } = decodeProtectedHeader(genuine);
      assert.ok(kid);
      const header = { alg: 'HS256', kid, typ: 'at+jwt' };
      await assertAccepted(
        target,
        signToken('HS256', Buffer.from(secret), header, claimsOf(target)),
        'the configured secret',
      );
      const weak: [string, Uint8Array][] = [
        ['empty', new Uint8Array(0)],
        ['one zero byte', new Uint8Array(1)],
        ['32 zero bytes', new Uint8Array(32)],
        ['"secret"', Buffer.from('secret')],
        ['"password"', Buffer.from('password')],
        ['the kid', Buffer.from(kid)],
        ['the secret minus its last byte', Buffer.from(secret.slice(0, -1))],
        ['the secret with its last byte changed', Buffer.from(`${secret.slice(0, -1)}!`)],
        ['the secret hex-decoded', Buffer.from(secret, 'hex')],
      ];
      for (const [label, key] of weak) {
        await assertRefused(target, signToken('HS256', key, header, claimsOf(target)), label);
        await assertRefused(
          target,
          signToken('HS256', key, { alg: 'HS256', typ: 'at+jwt' }, claimsOf(target)),
          `${label}, no kid`,
        );
      }
      // jose's own signer with a published key (RFC 7520 4.4) under the server's kid.
      const rfcKey = await importJWK(vector('RFC 7520 4.4 (HS256 with kid)').key, 'HS256');
      const withRfcKey = await new SignJWT(claimsOf(target))
        .setProtectedHeader(header)
        .sign(rfcKey);
      await assertRefused(target, withRfcKey, 'the RFC 7520 HMAC key');
    } finally {
      await target.server.close();
    }
  });
});
