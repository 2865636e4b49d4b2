// Accounts: sign-up with the password policy, and credential checks that take the same time and
// give the same answer whether the email is unknown, the password wrong or the user banned.
import type { UserStore } from '../ports/storage.js';
import type { AuditLog } from './audit.js';
import type { Clock } from './clock.js';
import { isValidEmail, normalizeEmail } from './email.js';
import type { RequestContext, User } from './model.js';
import type { PasswordHasher } from './passwords/hasher.js';
import type { PasswordRules } from './passwords/rules.js';
import { generateId, type RandomSource } from './random.js';
import type { Throttle } from './throttle.js';
import type { UserCache } from './user-cache.js';

export interface AccountServiceDeps {
  readonly store: UserStore;
  readonly hasher: PasswordHasher;
  readonly rules: PasswordRules;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly users: UserCache;
  readonly throttle: Throttle;
}

export type SignUpResult =
  | { readonly ok: true; readonly user: User }
  | { readonly ok: false; readonly reason: 'invalid_email' | 'email_taken' }
  | { readonly ok: false; readonly reason: 'weak_password'; readonly detail: string }
  | { readonly ok: false; readonly reason: 'rate_limited'; readonly retryAfterMs: number };

export type AuthenticationResult =
  | { readonly ok: true; readonly user: User }
  /** `retryAfterMs`: refused unheard because a throttle wait is running. */
  | { readonly ok: false; readonly userId: string | null; readonly retryAfterMs?: number };

export type PasswordChangeResult =
  | { readonly ok: true; readonly passwordHash: string }
  | { readonly ok: false; readonly reason: 'wrong_password' }
  | { readonly ok: false; readonly reason: 'rate_limited'; readonly retryAfterMs: number }
  | { readonly ok: false; readonly reason: 'weak_password'; readonly detail: string };

export class AccountService {
  constructor(private readonly deps: AccountServiceDeps) {}

  async signUp(
    rawEmail: string,
    password: string,
    context: RequestContext,
    roles: readonly string[] = [],
  ): Promise<SignUpResult> {
    const admitted = await this.deps.throttle.admitSignup(context.ip);
    if (!admitted.allowed) {
      return { ok: false, reason: 'rate_limited', retryAfterMs: admitted.retryAfterMs };
    }
    const email = normalizeEmail(rawEmail);
    if (!isValidEmail(email)) return { ok: false, reason: 'invalid_email' };
    // NIST SP 800-63B: nothing derived from the account or the service itself.
    const problem = this.deps.rules.problem(password, [
      email,
      email.split('@')[0] ?? '',
      'latchkey',
    ]);
    if (problem !== null) return { ok: false, reason: 'weak_password', detail: problem };
    // Checked before hashing only to save the work; the unique index still decides.
    if (await this.deps.store.findUserByEmail(email)) return { ok: false, reason: 'email_taken' };

    const passwordHash = await this.deps.hasher.hash(this.deps.rules.normalize(password));
    const now = this.deps.clock.now();
    const user = await this.deps.store.createUser({
      id: generateId('usr', now, this.deps.random),
      email,
      passwordHash,
      roles: [...roles],
      status: 'active',
      epoch: 0,
      createdAt: now,
    });
    if (!user) return { ok: false, reason: 'email_taken' };
    await this.deps.audit.record('signup', { userId: user.id, context });
    return { ok: true, user };
  }

  /**
   * The user for these credentials, or the failure with the user it was aimed at (for the audit
   * trail). Unknown emails verify against a dummy hash and banned users are checked after a real
   * verify, so every refusal costs one argon2 verification and looks the same to the caller.
   */
  async authenticate(
    rawEmail: string,
    password: string,
    context: RequestContext,
  ): Promise<AuthenticationResult> {
    const email = normalizeEmail(rawEmail);
    const subjects = { account: email, ip: context.ip };
    const verdict = await this.deps.throttle.check('login', subjects);
    if (!verdict.allowed) return { ok: false, userId: null, retryAfterMs: verdict.retryAfterMs };

    const normalizedPassword = this.deps.rules.normalize(password);
    const found = await this.deps.store.findUserByEmail(email);
    if (!found) {
      await this.deps.hasher.verifyDummy(normalizedPassword);
      await this.deps.throttle.recordFailure('login', subjects);
      return { ok: false, userId: null };
    }
    const matches = await this.deps.hasher.verify(found.passwordHash, normalizedPassword);
    if (!matches || found.status !== 'active') {
      await this.deps.throttle.recordFailure('login', subjects);
      return { ok: false, userId: found.id };
    }
    await this.deps.throttle.recordSuccess('login', subjects);
    const { passwordHash: _secret, ...user } = found;
    return { ok: true, user };
  }

  /**
   * Checks the current password and the new one against the policy, and hashes the new one. The
   * caller stores it with the new epoch (see Revoker.moveUserEpoch), so the change and the
   * revocation of older tokens land together.
   */
  async preparePasswordChange(
    user: User,
    currentPassword: string,
    newPassword: string,
    context: RequestContext,
  ): Promise<PasswordChangeResult> {
    const subjects = { account: user.id, ip: context.ip };
    const verdict = await this.deps.throttle.check('password', subjects);
    if (!verdict.allowed) {
      return { ok: false, reason: 'rate_limited', retryAfterMs: verdict.retryAfterMs };
    }
    const found = await this.deps.store.findUserWithPassword(user.id);
    const current = this.deps.rules.normalize(currentPassword);
    if (!found || !(await this.deps.hasher.verify(found.passwordHash, current))) {
      await this.deps.throttle.recordFailure('password', subjects);
      return { ok: false, reason: 'wrong_password' };
    }
    await this.deps.throttle.recordSuccess('password', subjects);
    const problem = this.deps.rules.problem(newPassword, [
      user.email,
      user.email.split('@')[0] ?? '',
      'latchkey',
    ]);
    if (problem !== null) return { ok: false, reason: 'weak_password', detail: problem };
    const passwordHash = await this.deps.hasher.hash(this.deps.rules.normalize(newPassword));
    return { ok: true, passwordHash };
  }

  async storePasswordHash(userId: string, passwordHash: string, epoch: number): Promise<void> {
    await this.deps.store.updatePassword(userId, passwordHash, epoch);
    this.deps.users.forget(userId);
  }

  /** "This wasn't me": the next login may only change the password (cleared by a new one). */
  async requirePasswordChange(userId: string): Promise<void> {
    await this.deps.store.requirePasswordChange(userId);
    this.deps.users.forget(userId);
  }

  async setStatus(userId: string, status: User['status'], epoch: number | null): Promise<void> {
    await this.deps.store.setStatus(userId, status, epoch);
    this.deps.users.forget(userId);
  }

  /** The user, from the cache of active users when possible (see UserCache for freshness). */
  async findUser(id: string): Promise<User | null> {
    const cached = this.deps.users.get(id);
    if (cached) return cached;
    const user = await this.deps.store.findUserById(id);
    if (user) this.deps.users.set(user);
    return user;
  }

  /** Drops a cached user whose epoch or status changed, here or on another instance. */
  forgetUser(id: string): void {
    this.deps.users.forget(id);
  }
}
