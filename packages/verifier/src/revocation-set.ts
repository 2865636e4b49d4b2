// What this process knows about revoked access tokens: revoked sessions (by `sid`), revoked tokens
// (by `jti`) and user epochs. Applying an event is idempotent, so an event delivered twice after a
// reconnect changes nothing. Checked on every verification with no I/O.

export type RevocationKind = 'session' | 'user' | 'token';

export interface Revocation {
  readonly seq: number;
  readonly kind: RevocationKind;
  /** Public session ID, user ID or access-token `jti`. */
  readonly id: string;
  /** ms. For `user`: tokens issued before this moment are revoked. */
  readonly at: number;
  /** ms: the last moment the issuer could still accept an affected token. */
  readonly until: number;
}

export interface TokenIdentity {
  readonly sub: string;
  readonly jti: string;
  readonly iat: number;
  readonly sid?: string | undefined;
}

export class RevocationSet {
  private readonly sessions = new Map<string, number>();
  private readonly tokens = new Map<string, number>();
  /** userId → { at: ms before which tokens are invalid, until } */
  private readonly users = new Map<string, { at: number; until: number }>();

  /**
   * @param graceMs how long past `until` an entry is kept. `until` is computed with the issuer's
   *   own leeway; this verifier accepts tokens up to its clock skew past `exp`, so it must keep
   *   each entry that much longer or a revoked token would come back to life.
   */
  constructor(private readonly graceMs: number) {}

  /** Records the revocation; false when it had already lapsed and was not kept. */
  apply(revocation: Revocation, now: number): boolean {
    const until = revocation.until + this.graceMs;
    if (until < now) return false;
    switch (revocation.kind) {
      case 'session':
        this.sessions.set(revocation.id, Math.max(until, this.sessions.get(revocation.id) ?? 0));
        break;
      case 'token':
        this.tokens.set(revocation.id, Math.max(until, this.tokens.get(revocation.id) ?? 0));
        break;
      case 'user': {
        const previous = this.users.get(revocation.id);
        this.users.set(revocation.id, {
          at: Math.max(revocation.at, previous?.at ?? -Infinity),
          until: Math.max(until, previous?.until ?? 0),
        });
        break;
      }
    }
    return true;
  }

  isRevoked(token: TokenIdentity): boolean {
    if (token.sid !== undefined && this.sessions.has(token.sid)) return true;
    if (this.tokens.has(token.jti)) return true;
    const user = this.users.get(token.sub);
    return user !== undefined && token.iat * 1000 < user.at;
  }

  /** Forgets entries that no token this verifier could still accept is affected by. */
  prune(now: number): void {
    for (const [id, until] of this.sessions) if (until < now) this.sessions.delete(id);
    for (const [id, until] of this.tokens) if (until < now) this.tokens.delete(id);
    for (const [id, entry] of this.users) if (entry.until < now) this.users.delete(id);
  }

  get size(): number {
    return this.sessions.size + this.tokens.size + this.users.size;
  }
}
