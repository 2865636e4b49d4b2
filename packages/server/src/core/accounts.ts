// Accounts: sign-up with the password policy, and credential checks that take the same time and
// give the same answer whether the email is unknown, the password wrong or the user banned.
import type { UserStore } from '../ports/storage.js';
import type { AuditLog } from './audit.js';
import type { Clock } from './clock.js';
import { isValidEmail, normalizeEmail } from './email.js';
import type { RequestContext, User } from './model.js';
import type { PasswordHasher } from './passwords/hasher.js';
import { generateId, type RandomSource } from './random.js';

/** The password policy as accounts need it: a normalisation and a reason to refuse, if any. */
export interface PasswordRules {
  normalize(password: string): string;
  /** A human-readable reason the password is refused, or `null`. */
  problem(password: string): string | null;
}

export interface AccountServiceDeps {
  readonly store: UserStore;
  readonly hasher: PasswordHasher;
  readonly rules: PasswordRules;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly random: RandomSource;
}

export type SignUpResult =
  | { readonly ok: true; readonly user: User }
  | { readonly ok: false; readonly reason: 'invalid_email' | 'email_taken' }
  | { readonly ok: false; readonly reason: 'weak_password'; readonly detail: string };

export type AuthenticationResult =
  | { readonly ok: true; readonly user: User }
  | { readonly ok: false; readonly userId: string | null };

export class AccountService {
  constructor(private readonly deps: AccountServiceDeps) {}

  async signUp(
    rawEmail: string,
    password: string,
    context: RequestContext,
    roles: readonly string[] = [],
  ): Promise<SignUpResult> {
    const email = normalizeEmail(rawEmail);
    if (!isValidEmail(email)) return { ok: false, reason: 'invalid_email' };
    const problem = this.deps.rules.problem(password);
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
  async authenticate(rawEmail: string, password: string): Promise<AuthenticationResult> {
    const normalizedPassword = this.deps.rules.normalize(password);
    const found = await this.deps.store.findUserByEmail(normalizeEmail(rawEmail));
    if (!found) {
      await this.deps.hasher.verifyDummy(normalizedPassword);
      return { ok: false, userId: null };
    }
    const matches = await this.deps.hasher.verify(found.passwordHash, normalizedPassword);
    if (!matches || found.status !== 'active') return { ok: false, userId: found.id };
    const { passwordHash: _secret, ...user } = found;
    return { ok: true, user };
  }

  /** Checks a password against a known user (re-authentication for sensitive changes). */
  async verifyPassword(userId: string, password: string): Promise<boolean> {
    const found = await this.deps.store.findUserWithPassword(userId);
    if (!found) return false;
    return this.deps.hasher.verify(found.passwordHash, this.deps.rules.normalize(password));
  }

  findUser(id: string): Promise<User | null> {
    return this.deps.store.findUserById(id);
  }
}
