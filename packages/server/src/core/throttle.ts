// Login throttling (NIST SP 800-63B-4), per account (unknown emails alike, so the limit reveals
// nothing) and per client IP. Three counters:
// - account and address together: after the free failures each failure earns a wait that
//   doubles up to `maxDelay`. Guessing from one place slows to a crawl, while the owner, from
//   elsewhere, is not locked out by it;
// - the address alone, with a higher allowance: one place spraying many accounts;
// - the account alone: at most `accountHardLimit` consecutive failures from anywhere, then a
//   longer wait. The only way to make the owner wait, and never for good.
// While a wait runs, every attempt is refused, the right password included.
import type { LatchkeyConfig } from '../config/types.js';
import type { ThrottleStore } from '../ports/throttle.js';
import type { Clock } from './clock.js';

/** Failure counts start again after a day without failures. */
const FAILURE_MEMORY_MS = 24 * 60 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;

export type ThrottleVerdict =
  { readonly allowed: true } | { readonly allowed: false; readonly retryAfterMs: number };

export interface ThrottleSubjects {
  /** The normalised email (login) or user ID (password change) the attempt targets. */
  readonly account: string;
  readonly ip: string | null;
}

export class Throttle {
  constructor(
    private readonly store: ThrottleStore,
    private readonly clock: Clock,
    private readonly config: LatchkeyConfig['throttle'],
  ) {}

  private keys(kind: string, subjects: ThrottleSubjects) {
    const account = `${kind}:account:${subjects.account}`;
    if (!subjects.ip) return { account, pair: account + '|', ip: null };
    return { account, pair: `${account}|${subjects.ip}`, ip: `${kind}:ip:${subjects.ip}` };
  }

  private verdict(blockedUntil: number, now: number): ThrottleVerdict {
    return blockedUntil > now
      ? { allowed: false, retryAfterMs: blockedUntil - now }
      : { allowed: true };
  }

  /** Before checking a password: is this account or address waiting? */
  async check(kind: 'login' | 'password', subjects: ThrottleSubjects): Promise<ThrottleVerdict> {
    const now = this.clock.now();
    const { account, pair, ip } = this.keys(kind, subjects);
    const keys = ip ? [account, pair, ip] : [account, pair];
    return this.verdict(await this.store.blockedUntil(keys, now), now);
  }

  async recordFailure(kind: 'login' | 'password', subjects: ThrottleSubjects): Promise<void> {
    const { account, pair, ip } = this.keys(kind, subjects);
    await this.count(pair, (n) => this.progressiveWait(n, this.config.accountFreeFailures));
    await this.count(account, (n) =>
      n >= this.config.accountHardLimit ? this.config.hardLimitWait * 1000 : 0,
    );
    if (ip) await this.count(ip, (n) => this.progressiveWait(n, this.config.ipFreeFailures));
  }

  private async count(key: string, waitFor: (failures: number) => number): Promise<void> {
    const now = this.clock.now();
    const wait = waitFor(await this.store.recordFailure(key, now, FAILURE_MEMORY_MS));
    if (wait > 0) await this.store.block(key, now + wait);
  }

  /** A correct password ends the account's run of failures (not the address's). */
  async recordSuccess(kind: 'login' | 'password', subjects: ThrottleSubjects): Promise<void> {
    const { account, pair } = this.keys(kind, subjects);
    await this.store.clear(pair);
    await this.store.clear(account);
  }

  /** Sign-ups per address per hour, counted whatever their outcome. */
  async admitSignup(ip: string | null): Promise<ThrottleVerdict> {
    if (!ip) return { allowed: true };
    const now = this.clock.now();
    const key = `signup:ip:${ip}`;
    const blocked = await this.store.blockedUntil([key], now);
    if (blocked > now) return this.verdict(blocked, now);
    const count = await this.store.recordFailure(key, now, HOUR_MS);
    if (count >= this.config.signupsPerIpPerHour) await this.store.block(key, now + HOUR_MS);
    return { allowed: true };
  }

  private progressiveWait(failures: number, free: number): number {
    if (failures < free) return 0;
    const doublings = Math.min(failures - free, 30);
    return Math.min(this.config.firstDelay * 1000 * 2 ** doublings, this.config.maxDelay * 1000);
  }
}
