// The password policy in the shape the account service consumes: a normal form and, for a
// refused password, the sentence to put in the 400's `detail`.

import type { LatchkeyConfig } from '../../config/types.js';
import { createPasswordPolicy, describePasswordProblem, loadCommonPasswords } from './policy.js';

export interface PasswordRules {
  normalize(password: string): string;
  /** Why the password is refused, for the user; `null` when it is acceptable. */
  problem(password: string, contextWords?: readonly string[]): string | null;
}

export function createPasswordRules(
  config: Pick<LatchkeyConfig['passwords'], 'minLength' | 'maxLength'>,
  commonPasswords: ReadonlySet<string> = loadCommonPasswords(),
): PasswordRules {
  const policy = createPasswordPolicy({
    minLength: config.minLength,
    maxLength: config.maxLength,
    commonPasswords,
  });
  return {
    normalize: (password) => policy.normalize(password),
    problem(password, contextWords = []) {
      const problem = policy.check(password, contextWords);
      return problem === null ? null : describePasswordProblem(problem, policy);
    },
  };
}
