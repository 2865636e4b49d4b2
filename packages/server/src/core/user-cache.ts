// Recently read active users, so a Bearer request does not need a database read for the user.
// Entries go when the user's epoch moves (every password change, ban and "log out everywhere"
// publishes a user revocation event, on every instance) and after a short TTL as a backstop.
// Banned users are never cached, so an unban elsewhere is seen on the next read.
import type { Clock } from './clock.js';
import type { User } from './model.js';

export class UserCache {
  private readonly entries = new Map<string, { user: User; cachedAt: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly options: { maxEntries: number; ttlMs: number } = {
      maxEntries: 10_000,
      ttlMs: 30_000,
    },
  ) {}

  get(id: string): User | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    if (this.clock.now() - entry.cachedAt > this.options.ttlMs) {
      this.entries.delete(id);
      return undefined;
    }
    return entry.user;
  }

  set(user: User): void {
    if (user.status !== 'active') return;
    if (this.entries.size >= this.options.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(user.id, { user, cachedAt: this.clock.now() });
  }

  forget(id: string): void {
    this.entries.delete(id);
  }
}
