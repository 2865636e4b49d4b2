// Tokens whose signature and claims were verified, keyed by the exact token string, so a repeated
// token skips the signature check. Bounded (oldest first out), never kept past the token's `exp`,
// dropped when the key that signed it is unpublished. Revocation and staleness are checked after
// a hit, never cached.
import type { AccessTokenClaims } from './claims.js';

interface Entry {
  readonly claims: AccessTokenClaims;
  readonly kid: string;
  /** ms */
  readonly expiresAt: number;
}

export class VerifiedTokenCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly capacity: number) {}

  get(token: string, now: number): AccessTokenClaims | undefined {
    const entry = this.entries.get(token);
    if (entry === undefined) return undefined;
    if (now >= entry.expiresAt) {
      this.entries.delete(token);
      return undefined;
    }
    return entry.claims;
  }

  set(token: string, claims: AccessTokenClaims, kid: string, now: number): void {
    const expiresAt = claims.exp * 1000;
    if (this.capacity === 0 || now >= expiresAt) return;
    if (this.entries.size >= this.capacity && !this.entries.has(token)) {
      // Maps iterate in insertion order: the first key is the oldest entry.
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(token, { claims, kid, expiresAt });
  }

  /** Forgets every token signed by one of `kids`. */
  dropKeys(kids: ReadonlySet<string>): void {
    for (const [token, entry] of this.entries) if (kids.has(entry.kid)) this.entries.delete(token);
  }

  get size(): number {
    return this.entries.size;
  }
}
