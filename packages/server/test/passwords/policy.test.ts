import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createPasswordPolicy,
  describePasswordProblem,
  loadCommonPasswords,
} from '../../src/core/passwords/policy.js';
import type { PasswordProblem } from '../../src/core/passwords/policy.js';
import { createPasswordRules } from '../../src/core/passwords/rules.js';

const commonPasswords = loadCommonPasswords();
const policy = createPasswordPolicy({ minLength: 15, maxLength: 128, commonPasswords });

describe('common password list', () => {
  it('is found from the compiled module and holds at least 10,000 entries', () => {
    assert.ok(commonPasswords.size >= 10_000, `only ${commonPasswords.size} entries`);
    for (const entry of ['123456', 'password', 'qwerty', 'iloveyou', '1qaz2wsx3edc4rfv']) {
      assert.ok(commonPasswords.has(entry), entry);
    }
  });

  it('holds only lowercase NFKC entries, without blanks', () => {
    for (const entry of commonPasswords) {
      assert.equal(entry, entry.normalize('NFKC').toLowerCase());
      assert.notEqual(entry.trim(), '');
    }
  });

  it('is read once', () => {
    assert.equal(loadCommonPasswords(), commonPasswords);
  });
});

describe('normalize', () => {
  it('applies NFKC: full-width forms and ligatures become their plain letters', () => {
    assert.equal(policy.normalize('ｐａｓｓｗｏｒｄ１２３'), 'password123');
    assert.equal(policy.normalize('ﬁne'), 'fine');
  });

  it('makes composed and decomposed accents hash alike', () => {
    assert.equal(policy.normalize('cafe\u0301'), policy.normalize('caf\u00e9'));
  });

  it('is idempotent', () => {
    const once = policy.normalize('Ｘ ﬃ e\u0301 Ⅻ ①');
    assert.equal(policy.normalize(once), once);
  });
});

describe('check: length', () => {
  it('refuses 14 characters and accepts 15', () => {
    assert.equal(policy.check('vtq8 kw3z pr7m'), 'too_short');
    assert.equal(policy.check('vtq8 kw3z pr7mx'), null);
  });

  it('accepts 128 characters and refuses 129', () => {
    const base = 'g7Lq2vXz9pRt4mWc'.repeat(8);
    assert.equal([...base].length, 128);
    assert.equal(policy.check(base), null);
    assert.equal(policy.check(`${base}k`), 'too_long');
  });

  it('counts code points, not UTF-16 units', () => {
    // Each emoji is two UTF-16 units but one character.
    assert.equal(policy.check('🔑🌵'.repeat(7)), 'too_short');
    assert.equal(policy.check(`${'🔑🌵'.repeat(7)}🐙`), null);
    assert.equal(policy.check('🐙'.repeat(128)), null);
    assert.equal(policy.check('🐙'.repeat(129)), 'too_long');
  });

  it('counts after NFKC', () => {
    // 28 code points as typed, 14 once each e + U+0301 composes to é.
    assert.equal(policy.check('be\u0301'.repeat(7)), 'too_short');
    // 5 ligatures as typed, 15 letters after NFKC.
    assert.equal(policy.check('ﬃ'.repeat(5)), null);
  });

  it('honours configured limits', () => {
    const short = createPasswordPolicy({ minLength: 8, maxLength: 10, commonPasswords });
    assert.equal(short.check('vtq8kw3'), 'too_short');
    assert.equal(short.check('vtq8kw3z'), null);
    assert.equal(short.check('vtq8kw3zpr7'), 'too_long');
  });
});

describe('check: common passwords', () => {
  it('refuses a listed password whatever its case', () => {
    assert.equal(policy.check('PassWordPassWord'), 'common');
    assert.equal(policy.check('1QAZ2WSX3EDC4RFV'), 'common');
  });

  it('refuses a listed password typed in full-width forms', () => {
    assert.equal(policy.check('ＰＡＳＳＷＯＲＤｐａｓｓｗｏｒｄ'), 'common');
  });

  it('refuses a common password padded to length with digits, symbols or spaces', () => {
    assert.equal(policy.check('Password12345678'), 'common');
    assert.equal(policy.check('!!!!!!!!monkey!!!!!!!!'), 'common');
    assert.equal(policy.check('*** trustno1 ***!!!'), 'common');
    assert.equal(policy.check('I love you 123456'), 'common');
  });

  it('accepts a long random passphrase', () => {
    assert.equal(policy.check('glimmer tundra 47 oxbow saffron'), null);
    assert.equal(policy.check('Vk3#pLq9!zR2@wX8'), null);
  });

  it('checks length before the list', () => {
    assert.equal(policy.check('password'), 'too_short');
    const eight = createPasswordPolicy({ minLength: 8, maxLength: 64, commonPasswords });
    assert.equal(eight.check('Password'), 'common');
  });
});

describe('check: context words', () => {
  const email = 'Jane.Doe@example.com';

  it('refuses the email address or service name, also padded', () => {
    assert.equal(policy.check('jane.doe@example.com', [email]), 'context_specific');
    assert.equal(policy.check('JANE.DOE@EXAMPLE.COM2024!', [email]), 'context_specific');
    assert.equal(policy.check('latchkey1234567!', [email, 'Latchkey']), 'context_specific');
  });

  it('accepts a password that merely contains a context word', () => {
    assert.equal(policy.check('jane.doe@example.com rides otters', [email]), null);
  });
});

describe('check: invalid input', () => {
  it('refuses unpaired surrogates, which UTF-8 cannot carry', () => {
    assert.equal(policy.check(`${'a'.repeat(20)}\ud800`), 'invalid');
    assert.equal(policy.check(`\udc00${'a'.repeat(20)}`), 'invalid');
  });

  it('refuses NUL', () => {
    assert.equal(policy.check(`vtq8 kw3z\u0000pr7m xx`), 'invalid');
  });

  it('accepts other control characters and paired surrogates', () => {
    assert.equal(policy.check('vtq8\tkw3z pr7m xx'), null);
    assert.equal(policy.check('𝔊𝔬𝔬𝔡 𝔭𝔞𝔰𝔰𝔭𝔥𝔯𝔞𝔰𝔢 𝔥𝔢𝔯𝔢'), null);
  });
});

describe('configuration', () => {
  it('refuses impossible limits', () => {
    assert.throws(
      () => createPasswordPolicy({ minLength: 0, maxLength: 10, commonPasswords }),
      RangeError,
    );
    assert.throws(
      () => createPasswordPolicy({ minLength: 1.5, maxLength: 10, commonPasswords }),
      RangeError,
    );
    assert.throws(
      () => createPasswordPolicy({ minLength: 20, maxLength: 10, commonPasswords }),
      RangeError,
    );
  });
});

describe('describePasswordProblem', () => {
  it('gives a sentence for every problem', () => {
    const expected: Record<PasswordProblem, RegExp> = {
      invalid: /cannot be stored/,
      too_short: /^password must be at least 15 characters$/,
      too_long: /^password must be at most 128 characters$/,
      common: /too common/,
      context_specific: /email address/,
    };
    for (const [problem, pattern] of Object.entries(expected)) {
      assert.match(describePasswordProblem(problem as PasswordProblem, policy), pattern);
    }
  });
});

describe('createPasswordRules', () => {
  it('answers with the sentence for a refused password and null otherwise', () => {
    const rules = createPasswordRules({ minLength: 15, maxLength: 128 });
    assert.equal(rules.problem('short'), 'password must be at least 15 characters');
    assert.equal(rules.problem('glimmer tundra 47 oxbow saffron'), null);
    assert.equal(rules.normalize('ｐａｓｓ'), 'pass');
  });
});
