// Generous per-address limits for every route, so a flood from one place degrades gracefully
// instead of taking the server down. Counted per instance in fixed one-minute windows: cheap on
// the hot path, and the shared-store throttles (login, sign-up, password) do the precise work.
import type { LatchkeyConfig } from '../config/types.js';
import type { Clock } from '../core/clock.js';
import type { RateLimitRule } from './route-types.js';

const WINDOW_MS = 60_000;

export class FloodLimiter {
  private windowStart = 0;
  private counts = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly limits: LatchkeyConfig['rateLimits'],
  ) {}

  /** Milliseconds until the window ends if the address is over its limit, else 0. */
  hit(rule: RateLimitRule, ip: string): number {
    if (rule === 'none') return 0;
    const now = this.clock.now();
    if (now - this.windowStart >= WINDOW_MS) {
      this.windowStart = now;
      this.counts = new Map();
    }
    const limit = rule === 'refresh' ? this.limits.refreshPerMinute : this.limits.defaultPerMinute;
    const key = `${rule === 'refresh' ? 'r' : 'd'}:${ip}`;
    const count = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, count);
    return count > limit ? this.windowStart + WINDOW_MS - now : 0;
  }
}
