// The verifier's closed registry of outcomes. Codes are part of the public contract: never renamed,
// never reused for another meaning. Messages are for logs and never contain a token.

export type VerifierErrorCode =
  /** Malformed, forged, wrongly signed, of the wrong type, issuer or audience, or unknown key. */
  | 'token_invalid'
  /** Expired beyond the allowed clock skew. */
  | 'token_expired'
  /** Its session, the token itself or every token of its user before a moment was revoked. */
  | 'token_revoked'
  /** The JWKS could not be fetched, so a token signed with a key not yet known cannot be checked. */
  | 'keys_unavailable'
  /**
   * The revocation feed has been silent for longer than `maxStaleness` (or has not caught up yet)
   * and `failOpen` is false: the verifier cannot tell whether the token was revoked.
   */
  | 'revocations_unavailable';

/** Codes that say something about the token; the others are the verifier's own trouble. */
export const TOKEN_ERROR_CODES: ReadonlySet<VerifierErrorCode> = new Set([
  'token_invalid',
  'token_expired',
  'token_revoked',
]);

export class VerifierError extends Error {
  override readonly name = 'VerifierError';

  constructor(
    readonly code: VerifierErrorCode,
    message: string = code,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A broken contract: `createVerifier` options that cannot work safely. Thrown, never returned. */
export class VerifierConfigError extends Error {
  override readonly name = 'VerifierConfigError';

  constructor(
    /** The option at fault, as a dotted path (`revocations.credential.secret`). */
    readonly option: string,
    problem: string,
  ) {
    super(`${option} ${problem}`);
  }
}
