// The claims of a Latchkey access token (RFC 9068 profile) and the strict shape checks that come
// before anything is decoded or trusted.

export interface AccessTokenClaims {
  readonly iss: string;
  /** The user ID. */
  readonly sub: string;
  readonly aud: string;
  /** Seconds since the epoch. */
  readonly exp: number;
  /** Seconds since the epoch. */
  readonly iat: number;
  readonly jti: string;
  readonly client_id: string;
  /** The session behind the token; hybrid clients only. */
  readonly sid?: string;
  readonly roles: readonly string[];
}

/** Claims every Latchkey access token carries; jose checks their presence. */
export const REQUIRED_CLAIMS = ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id'];

/** Anything longer is not a Latchkey access token, and is refused before any work. */
export const MAX_TOKEN_LENGTH = 8192;

/** RFC 7515 compact serialisation, strictly: no padding, no whitespace, three segments. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

const BASE64URL_VALUES = new Map(
  [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'].map((c, i) => [c, i]),
);

/**
 * Base64url has several spellings of one byte string (the unused low bits of the last character)
 * and jose accepts them all. Only the canonical one is accepted here, so a token has exactly one
 * string form and the verified-token cache, keyed on the string, cannot be sidestepped.
 */
function isCanonicalSegment(segment: string): boolean {
  const tail = segment.length % 4;
  if (tail === 0) return true;
  if (tail === 1) return false;
  const last = BASE64URL_VALUES.get(segment[segment.length - 1]!);
  if (last === undefined) return false;
  // 2 characters carry 1 byte (4 spare bits), 3 characters carry 2 bytes (2 spare bits).
  const spareBits = tail === 2 ? 0b1111 : 0b11;
  return (last & spareBits) === 0;
}

/** True when `token` is a strict, canonical compact JWS of reasonable size. */
export function isStrictCompactJWS(token: string): boolean {
  return (
    token.length <= MAX_TOKEN_LENGTH &&
    COMPACT_JWS.test(token) &&
    token.split('.').every(isCanonicalSegment)
  );
}

/** The typed claims, or `null` when a claim has the wrong type. Unknown claims are dropped. */
export function parseClaims(payload: Record<string, unknown>): AccessTokenClaims | null {
  const { iss, sub, aud, exp, iat, jti, client_id, sid, roles } = payload;
  if (
    typeof iss !== 'string' ||
    typeof sub !== 'string' ||
    typeof aud !== 'string' ||
    typeof exp !== 'number' ||
    typeof iat !== 'number' ||
    typeof jti !== 'string' ||
    typeof client_id !== 'string' ||
    (sid !== undefined && typeof sid !== 'string') ||
    !Array.isArray(roles) ||
    !roles.every((role) => typeof role === 'string')
  ) {
    return null;
  }
  return Object.freeze({
    iss,
    sub,
    aud,
    exp,
    iat,
    jti,
    client_id,
    ...(typeof sid === 'string' ? { sid } : {}),
    roles: Object.freeze([...roles]),
  });
}
