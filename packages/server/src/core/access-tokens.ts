// Access tokens: RFC 9068 JWTs signed by the key ring, verified signature-first, then checked
// against the revocation state on every use.
import { jwtVerify, type JWTPayload } from 'jose';
import type { ClientConfig } from '../config/types.js';
import type { Clock } from './clock.js';
import { JwsSigner } from './jws.js';
import type { KeyRing } from './keys.js';
import type { User } from './model.js';
import type { RandomSource } from './random.js';
import type { RevocationState } from './revocation-state.js';

export interface AccessTokenClaims {
  readonly iss: string;
  readonly sub: string;
  readonly aud: string;
  readonly exp: number;
  readonly iat: number;
  readonly jti: string;
  readonly client_id: string;
  readonly sid?: string;
  readonly roles: readonly string[];
}

export interface IssuedAccessToken {
  readonly token: string;
  readonly expiresIn: number;
  readonly claims: AccessTokenClaims;
}

/** RFC 7515 compact serialisation, strictly: jose alone would tolerate some deviations. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** Latchkey's own tolerance for tokens it issued itself (API.md: at most 1 s). */
const CLOCK_LEEWAY_SECONDS = 1;

/**
 * The last moment (ms) Latchkey still accepts a token with this `exp`: a revocation of the token
 * must be kept at least until then, or the leeway would bring it back to life.
 */
export function lastAcceptedMoment(claims: Pick<AccessTokenClaims, 'exp'>): number {
  return (claims.exp + CLOCK_LEEWAY_SECONDS) * 1000;
}

export interface AccessTokenDeps {
  readonly keys: KeyRing;
  readonly issuer: string;
  readonly clients: readonly ClientConfig[];
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly revocations: RevocationState;
  /** Verified tokens remembered so repeat requests skip the signature check. */
  readonly cacheSize?: number;
}

export class AccessTokens {
  private readonly verified = new Map<string, AccessTokenClaims>();
  private signer?: { kid: string; key: unknown; signer: JwsSigner };
  private readonly cacheSize: number;
  private readonly audiences: string[];
  /** Access-token lifetime (s) of each client that gets access tokens. */
  private readonly tokenClients: Map<string, number>;

  constructor(private readonly deps: AccessTokenDeps) {
    this.cacheSize = deps.cacheSize ?? 10_000;
    this.audiences = [...new Set(deps.clients.map((c) => c.audience))];
    this.tokenClients = new Map(
      deps.clients.filter((c) => c.strategy !== 'session').map((c) => [c.id, c.accessTtl]),
    );
  }

  async issue(user: User, client: ClientConfig, sessionId?: string): Promise<IssuedAccessToken> {
    const nowSeconds = Math.floor(this.deps.clock.now() / 1000);
    // Never before the user's epoch, or a token issued right after a password change would be
    // born revoked (the epoch is set to the next whole second).
    const iat = Math.max(nowSeconds, user.epoch);
    const exp = iat + client.accessTtl;
    const claims: AccessTokenClaims = {
      iss: this.deps.issuer,
      sub: user.id,
      aud: client.audience,
      exp,
      iat,
      jti: Buffer.from(this.deps.random.bytes(16)).toString('base64url'),
      client_id: client.id,
      ...(sessionId !== undefined ? { sid: sessionId } : {}),
      roles: [...user.roles],
    };
    const { kid, signer } = this.currentSigner();
    const token = await signer.sign({ kid, typ: 'at+jwt' }, { ...claims });
    return { token, expiresIn: exp - nowSeconds, claims };
  }

  /** The signer of the key ring's current key, made once per key. */
  private currentSigner(): { kid: string; signer: JwsSigner } {
    const signing = this.deps.keys.signingKey();
    if (this.signer?.kid !== signing.kid || this.signer.key !== signing.key) {
      this.signer = {
        kid: signing.kid,
        key: signing.key,
        signer: new JwsSigner(signing.alg, signing.key),
      };
    }
    return this.signer;
  }

  /**
   * The claims of a valid, unrevoked access token, or `null`. Every failure looks the same to the
   * caller: no reason leaks to whoever presented the token.
   */
  async verify(token: string): Promise<AccessTokenClaims | null> {
    const claims = this.verified.get(token) ?? (await this.verifySignatureAndClaims(token));
    if (!claims) return null;
    const nowSeconds = this.deps.clock.now() / 1000;
    if (claims.exp + CLOCK_LEEWAY_SECONDS <= nowSeconds) {
      this.verified.delete(token);
      return null;
    }
    if (this.deps.revocations.isRevoked(claims)) return null;
    return claims;
  }

  private async verifySignatureAndClaims(token: string): Promise<AccessTokenClaims | null> {
    if (token.length > 8192 || !COMPACT_JWS.test(token) || !isCanonicalBase64url(token))
      return null;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.deps.keys.resolveVerificationKey, {
        algorithms: this.deps.keys.allowedAlgorithms(),
        issuer: this.deps.issuer,
        audience: this.audiences,
        typ: 'at+jwt',
        requiredClaims: ['sub', 'exp', 'iat', 'jti', 'client_id'],
        clockTolerance: CLOCK_LEEWAY_SECONDS,
        currentDate: new Date(this.deps.clock.now()),
      }));
    } catch {
      return null;
    }
    const claims = parseClaims(payload);
    const accessTtl = claims ? this.tokenClients.get(claims.client_id) : undefined;
    if (!claims || accessTtl === undefined) return null;
    if (!hasIssuableTimes(claims, accessTtl, this.deps.clock.now() / 1000)) return null;
    this.remember(token, claims);
    return claims;
  }

  private remember(token: string, claims: AccessTokenClaims): void {
    if (this.verified.size >= this.cacheSize) {
      // Maps iterate in insertion order: drop the oldest entry.
      const oldest = this.verified.keys().next();
      if (!oldest.done) this.verified.delete(oldest.value);
    }
    this.verified.set(token, claims);
  }
}

/**
 * Base64url has several spellings of one byte string (the unused low bits of the last character).
 * Only the canonical one is accepted, so a token has exactly one string form: the verified-token
 * cache and any deny-list keyed on the string cannot be sidestepped by re-spelling it.
 */
function isCanonicalBase64url(token: string): boolean {
  return token
    .split('.')
    .every((segment) => Buffer.from(segment, 'base64url').toString('base64url') === segment);
}

/**
 * Times Latchkey itself issues: whole seconds, a lifetime no longer than the client's, an `iat`
 * no later than the next whole second (a moved epoch) plus leeway. Only a key holder could sign
 * anything else, but such a token would outlive the revocation bounds computed from its `exp`,
 * or with a future `iat` survive the user's epoch.
 */
function hasIssuableTimes(claims: AccessTokenClaims, accessTtl: number, nowSeconds: number) {
  return (
    Number.isSafeInteger(claims.iat) &&
    Number.isSafeInteger(claims.exp) &&
    claims.exp - claims.iat <= accessTtl &&
    claims.iat <= Math.floor(nowSeconds) + 1 + CLOCK_LEEWAY_SECONDS
  );
}

function parseClaims(payload: JWTPayload): AccessTokenClaims | null {
  const { iss, sub, aud, exp, iat, jti, client_id, sid, roles } = payload as Record<
    string,
    unknown
  >;
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
    !roles.every((r) => typeof r === 'string')
  ) {
    return null;
  }
  return {
    iss,
    sub,
    aud,
    exp,
    iat,
    jti,
    client_id,
    ...(typeof sid === 'string' ? { sid } : {}),
    roles,
  };
}
