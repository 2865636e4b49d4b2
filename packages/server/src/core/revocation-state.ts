// What this process knows about revoked access tokens: revoked sessions (by `sid`), revoked
// tokens (by `jti`) and user epochs. Fed from the revocation log; checked on every Bearer request
// with no I/O. Entries are dropped once no token they affect can still be valid.
import type { RevocationEvent } from './model.js';

export interface TokenIdentity {
  readonly sub: string;
  readonly jti: string;
  readonly iat: number;
  readonly sid?: string | undefined;
}

export class RevocationState {
  private readonly sessions = new Map<string, number>();
  private readonly tokens = new Map<string, number>();
  /** userId → { at: ms before which tokens are invalid, until } */
  private readonly users = new Map<string, { at: number; until: number }>();
  apply(event: RevocationEvent): void {
    switch (event.kind) {
      case 'session':
        this.sessions.set(
          event.subjectId,
          Math.max(event.until, this.sessions.get(event.subjectId) ?? 0),
        );
        break;
      case 'token':
        this.tokens.set(
          event.subjectId,
          Math.max(event.until, this.tokens.get(event.subjectId) ?? 0),
        );
        break;
      case 'user': {
        const previous = this.users.get(event.subjectId);
        this.users.set(event.subjectId, {
          at: Math.max(event.at, previous?.at ?? 0),
          until: Math.max(event.until, previous?.until ?? 0),
        });
        break;
      }
    }
  }

  isSessionRevoked(sessionId: string): boolean {
    return this.sessions.has(sessionId);
  }

  isRevoked(token: TokenIdentity): boolean {
    if (token.sid !== undefined && this.sessions.has(token.sid)) return true;
    if (this.tokens.has(token.jti)) return true;
    const user = this.users.get(token.sub);
    return user !== undefined && token.iat * 1000 < user.at;
  }

  prune(now: number): void {
    for (const [id, until] of this.sessions) if (until < now) this.sessions.delete(id);
    for (const [id, until] of this.tokens) if (until < now) this.tokens.delete(id);
    for (const [id, entry] of this.users) if (entry.until < now) this.users.delete(id);
  }

  get size(): number {
    return this.sessions.size + this.tokens.size + this.users.size;
  }
}
