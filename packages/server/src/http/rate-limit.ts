// Generous per-address limits for every route, so a flood from one place degrades gracefully
// instead of taking the server down. Counted in fixed one-minute windows aligned to the clock, so
// every instance counts the same window.
//
// A request never waits on another service for this: each instance decides from its own count,
// which is the shared count (Redis, when configured) as of the last exchange plus the hits it has
// seen since. Every `syncIntervalMs` the instance adds its new hits to the shared counts and
// takes the totals back. A flood spread over several instances is therefore refused once the
// total crosses the limit, at most one exchange late; when the shared store is unreachable, each
// instance goes on counting alone. The shared-store throttles (login, sign-up, password) do the
// precise work where precision matters.
import type { LatchkeyConfig } from '../config/types.js';
import type { Clock } from '../core/clock.js';
import type { SharedFloodCounts } from '../ports/flood-counts.js';
import type { RateLimitRule } from './route-types.js';

export const FLOOD_WINDOW_MS = 60_000;
const DEFAULT_SYNC_INTERVAL_MS = 250;

export interface FloodLimiterOptions {
  /** Counts shared with the other instances; without them each instance counts alone. */
  readonly shared?: SharedFloodCounts | undefined;
  readonly syncIntervalMs?: number;
}

export class FloodLimiter {
  private windowStart = 0;
  /** Per key: the shared count at the last exchange, plus the hits seen here since. */
  private counts = new Map<string, number>();
  /** Per key: hits seen here and not yet added to the shared counts. */
  private unsent = new Map<string, number>();
  private readonly shared: SharedFloodCounts | undefined;
  private readonly timer: NodeJS.Timeout | undefined;
  private syncing = false;

  constructor(
    private readonly clock: Clock,
    private readonly limits: LatchkeyConfig['rateLimits'],
    options: FloodLimiterOptions = {},
  ) {
    this.shared = options.shared;
    if (this.shared) {
      this.timer = setInterval(
        () => void this.sync(),
        options.syncIntervalMs ?? DEFAULT_SYNC_INTERVAL_MS,
      );
      this.timer.unref();
    }
  }

  /** Milliseconds until the window ends if the address is over its limit, else 0. */
  hit(rule: RateLimitRule, ip: string): number {
    if (rule === 'none') return 0;
    const now = this.clock.now();
    this.enterWindowOf(now);
    const limit = rule === 'refresh' ? this.limits.refreshPerMinute : this.limits.defaultPerMinute;
    const key = `${rule === 'refresh' ? 'r' : 'd'}:${ip}`;
    const count = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, count);
    if (this.shared) this.unsent.set(key, (this.unsent.get(key) ?? 0) + 1);
    return count > limit ? this.windowStart + FLOOD_WINDOW_MS - now : 0;
  }

  /**
   * Adds the hits seen here to the shared counts and takes the totals back. Runs by itself every
   * sync interval; a failed exchange is dropped (its hits still count here).
   */
  async sync(): Promise<void> {
    if (!this.shared || this.syncing) return;
    this.enterWindowOf(this.clock.now());
    if (this.unsent.size === 0) return;
    const windowStart = this.windowStart;
    const sent = this.unsent;
    this.unsent = new Map();
    this.syncing = true;
    try {
      const totals = await this.shared.add(windowStart, FLOOD_WINDOW_MS, sent);
      if (windowStart !== this.windowStart) return;
      // Hits that arrived during the exchange are in `unsent` and not yet in the totals.
      for (const [key, total] of totals) this.counts.set(key, total + (this.unsent.get(key) ?? 0));
    } catch {
      // Unreachable (Redis away): counting goes on here alone until it answers again.
    } finally {
      this.syncing = false;
    }
  }

  close(): void {
    clearInterval(this.timer);
  }

  private enterWindowOf(now: number): void {
    if (now - this.windowStart < FLOOD_WINDOW_MS) return;
    this.windowStart = now - (now % FLOOD_WINDOW_MS);
    this.counts = new Map();
    this.unsent = new Map();
  }
}
