// Password policy of NIST SP 800-63B-4 for a password that is the only factor: a length range
// and a blocklist, no composition rules.

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export type PasswordProblem =
  /** Contains an unpaired UTF-16 surrogate or U+0000. */
  | 'invalid'
  | 'too_short'
  | 'too_long'
  /** On the shipped list of common passwords, or one of them padded with digits or symbols. */
  | 'common'
  /** One of the caller's context words (email address, service name), possibly padded. */
  | 'context_specific';

export interface PasswordPolicyOptions {
  /** In Unicode code points after NFKC. */
  readonly minLength: number;
  /** In Unicode code points after NFKC. */
  readonly maxLength: number;
  /** Lowercase, NFKC-normalised entries, as `loadCommonPasswords` returns them. */
  readonly commonPasswords: ReadonlySet<string>;
}

export interface PasswordPolicy {
  readonly minLength: number;
  readonly maxLength: number;
  /**
   * The form to hash and to verify. Apply it at every set and every verify, so that the same
   * password typed on keyboards that emit different code points (full-width forms, precomposed
   * or combining accents) gives the same hash.
   */
  normalize(password: string): string;
  /**
   * Checks a new password as the user typed it (it normalises first). Run at set time only: a
   * login must keep working for passwords set under an older policy.
   *
   * `contextWords` are words an attacker would try for this account, such as the email address,
   * its local part and the service name.
   */
  check(password: string, contextWords?: readonly string[]): PasswordProblem | null;
}

// A lone surrogate cannot be encoded as UTF-8: the hashing library substitutes U+FFFD, so
// distinct inputs would share a hash. NUL is refused because C-string tools (and any future
// hashing backend) may truncate at it.
const LONE_SURROGATE = /\p{Cs}/u;
const WHITESPACE = /\s+/gu;
const NON_ALPHANUMERIC_ENDS = /^[^\p{L}\p{M}\p{N}]+|[^\p{L}\p{M}\p{N}]+$/gu;
const NON_LETTER_ENDS = /^[^\p{L}\p{M}]+|[^\p{L}\p{M}]+$/gu;

function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

// With a 15-character minimum, an exact match against the list would only ever catch its few
// entries of 15 characters or more; the usual way to reach the length is to pad a common word
// ("password2024!!!!", "i love you 12345"), so the padding is stripped before the lookup.
function guessableForms(lowercased: string): Set<string> {
  const forms = new Set<string>();
  for (const base of [lowercased, lowercased.replace(WHITESPACE, '')]) {
    forms.add(base);
    forms.add(base.replace(NON_ALPHANUMERIC_ENDS, ''));
    forms.add(base.replace(NON_LETTER_ENDS, ''));
  }
  forms.delete('');
  return forms;
}

function assertLength(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`password ${name} must be a positive integer, got ${value}`);
  }
}

export function createPasswordPolicy(options: PasswordPolicyOptions): PasswordPolicy {
  const { minLength, maxLength, commonPasswords } = options;
  assertLength('minLength', minLength);
  assertLength('maxLength', maxLength);
  if (minLength > maxLength) {
    throw new RangeError(
      `password minLength (${minLength}) must not exceed maxLength (${maxLength})`,
    );
  }

  return Object.freeze({
    minLength,
    maxLength,
    normalize: normalizePassword,
    check(password: string, contextWords: readonly string[] = []): PasswordProblem | null {
      if (LONE_SURROGATE.test(password) || password.includes('\u0000')) return 'invalid';
      const normalized = normalizePassword(password);
      const length = [...normalized].length;
      if (length < minLength) return 'too_short';
      if (length > maxLength) return 'too_long';

      const forms = guessableForms(normalized.toLowerCase());
      for (const form of forms) {
        if (commonPasswords.has(form)) return 'common';
      }
      for (const word of contextWords) {
        const normalizedWord = normalizePassword(word).trim().toLowerCase();
        if (normalizedWord !== '' && forms.has(normalizedWord)) return 'context_specific';
      }
      return null;
    },
  });
}

/** The reason to show the user, suitable for the `detail` of a 400 `validation_failed`. */
export function describePasswordProblem(
  problem: PasswordProblem,
  limits: Pick<PasswordPolicy, 'minLength' | 'maxLength'>,
): string {
  switch (problem) {
    case 'invalid':
      return 'password contains characters that cannot be stored (NUL or unpaired surrogates)';
    case 'too_short':
      return `password must be at least ${limits.minLength} characters`;
    case 'too_long':
      return `password must be at most ${limits.maxLength} characters`;
    case 'common':
      return 'password is too common: it is, or is based on, a frequently used or breached password';
    case 'context_specific':
      return 'password must not be based on your email address or the name of the service';
  }
}

// The list is data, not code, so tsc does not copy it to dist: look beside this module first
// (running from src, or a build that copies it), then from dist/src/core/passwords back to src.
const COMMON_PASSWORDS_LOCATIONS = [
  new URL('./common-passwords.txt', import.meta.url),
  new URL('../../../../src/core/passwords/common-passwords.txt', import.meta.url),
];

let commonPasswords: ReadonlySet<string> | undefined;

/** Reads the shipped list once (synchronously; meant for start-up) and caches it. */
export function loadCommonPasswords(): ReadonlySet<string> {
  if (commonPasswords !== undefined) return commonPasswords;
  const location = COMMON_PASSWORDS_LOCATIONS.find((url) => existsSync(url));
  if (location === undefined) {
    const tried = COMMON_PASSWORDS_LOCATIONS.map((url) => fileURLToPath(url)).join(', ');
    throw new Error(`common password list not found (looked for ${tried})`);
  }
  const entries = new Set<string>();
  for (const line of readFileSync(location, 'utf8').split('\n')) {
    // Normalised again here so that a hand-edited list cannot silently stop matching.
    const entry = normalizePassword(line.trim()).toLowerCase();
    if (entry !== '') entries.add(entry);
  }
  commonPasswords = entries;
  return entries;
}
