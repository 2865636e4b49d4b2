// The small rule vocabulary schema.ts is written in. A rule checks one value, records what is
// wrong under the value's key path, and returns the parsed value or INVALID, so one pass over the
// file collects every problem instead of stopping at the first.

import { parseDuration } from './duration.js';

export const INVALID: unique symbol = Symbol('invalid');
export type Invalid = typeof INVALID;

/** Collects `path: problem` lines; `labels` renames paths, e.g. to say a value came from env. */
export class Problems {
  readonly #lines: string[] = [];
  readonly #labels: ReadonlyMap<string, string>;

  constructor(labels: ReadonlyMap<string, string> = new Map()) {
    this.#labels = labels;
  }

  add(path: string, problem: string): void {
    this.#lines.push(`${this.#labels.get(path) ?? (path || 'configuration')}: ${problem}`);
  }

  get lines(): readonly string[] {
    return this.#lines;
  }
}

export type Rule<T> = (value: unknown, path: string, problems: Problems) => T | Invalid;

export function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** A rule from a type guard: the value passes through unchanged, or `problem` is recorded. */
export function accept<T>(test: (value: unknown) => value is T, problem: string): Rule<T> {
  return (value, path, problems) => {
    if (test(value)) return value;
    problems.add(path, problem);
    return INVALID;
  };
}

export function integer(min: number, max: number, problem?: string): Rule<number> {
  return accept(
    (value): value is number =>
      Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max,
    problem ?? `must be an integer from ${min} to ${max}`,
  );
}

export const nonEmptyString: Rule<string> = accept(
  (value): value is string => typeof value === 'string' && value !== '',
  'must be a non-empty string',
);

export const boolean: Rule<boolean> = accept(
  (value): value is boolean => typeof value === 'boolean',
  'must be true or false',
);

export function oneOf<const T extends string>(choices: readonly T[]): Rule<T> {
  return accept(
    (value): value is T => choices.includes(value as T),
    `must be one of ${choices.map((choice) => `"${choice}"`).join(', ')}`,
  );
}

export function duration(min: number, max: number, why = ''): Rule<number> {
  return (value, path, problems) => {
    const seconds = parseDuration(value);
    if (seconds === null) {
      problems.add(
        path,
        'must be a duration: whole seconds, or a string such as "30s", "15m", "7d"',
      );
      return INVALID;
    }
    if (seconds >= min && seconds <= max) return seconds;
    problems.add(path, `must be from ${min} to ${max} seconds${why}`);
    return INVALID;
  };
}

/** `null` stands for "not set" (the documented fallback applies); JSON has no `undefined`. */
export function nullable<T>(rule: Rule<T>): Rule<T | null> {
  return (value, path, problems) => (value === null ? null : rule(value, path, problems));
}

export function arrayOf<T>(rule: Rule<T>): Rule<T[]> {
  return (value, path, problems) => {
    if (!Array.isArray(value)) {
      problems.add(path, 'must be an array');
      return INVALID;
    }
    const items: T[] = [];
    let valid = true;
    value.forEach((item: unknown, index) => {
      const parsed = rule(item, childPath(path, index), problems);
      if (parsed === INVALID) valid = false;
      else items.push(parsed);
    });
    return valid ? items : INVALID;
  };
}

/** Reports a problem at a key below the checked value, e.g. `report('is required', 'secret')`. */
export type Report = (problem: string, ...keys: Array<string | number>) => void;

/** Runs a check across fields; true when it reported nothing. */
function passes<T>(
  check: (value: T, report: Report) => void,
  value: T,
  path: string,
  problems: Problems,
): boolean {
  const before = problems.lines.length;
  check(value, (problem, ...keys) => problems.add(keys.reduce<string>(childPath, path), problem));
  return problems.lines.length === before;
}

/** Adds a check across fields; it runs only once the value itself has passed `rule`. */
export function refine<T>(rule: Rule<T>, check: (value: T, report: Report) => void): Rule<T> {
  return (value, path, problems) => {
    const parsed = rule(value, path, problems);
    if (parsed === INVALID) return INVALID;
    return passes(check, parsed, path, problems) ? parsed : INVALID;
  };
}

export const REQUIRED: unique symbol = Symbol('required');

/**
 * One key of the file: its rule and the default written as an operator would write it (`'7d'`),
 * or a function computing it. Defaults go through the rule like any other value.
 */
export class Field<T> {
  readonly rule: Rule<T>;
  readonly fallback: unknown;

  constructor(rule: Rule<T>, fallback: unknown) {
    this.rule = rule;
    this.fallback = fallback;
  }

  parse(value: unknown, path: string, problems: Problems): T | Invalid {
    if (value !== undefined) return this.rule(value, path, problems);
    if (this.fallback === REQUIRED) {
      problems.add(path, 'is required');
      return INVALID;
    }
    const fallback =
      typeof this.fallback === 'function' ? (this.fallback as () => unknown)() : this.fallback;
    return this.rule(fallback, path, problems);
  }
}

export function field<T>(rule: Rule<T>, fallback: unknown): Field<T> {
  return new Field(rule, fallback);
}

export type Shape = Readonly<Record<string, Field<unknown>>>;
export type Infer<S extends Shape> = { [K in keyof S]: S[K] extends Field<infer T> ? T : never };

/**
 * Parses an object key by key. Unknown keys are refused: a misspelt key would otherwise be
 * silently ignored and its default used, which fails open. The result is partial when some keys
 * were invalid, so callers can still run checks that need only the valid ones.
 */
export function parseShape<S extends Shape>(
  shape: S,
  value: unknown,
  path: string,
  problems: Problems,
): { value: Partial<Infer<S>>; valid: boolean } {
  if (!isPlainObject(value)) {
    problems.add(path, 'must be an object');
    return { value: {}, valid: false };
  }
  let valid = true;
  for (const key of Object.keys(value)) {
    if (Object.hasOwn(shape, key)) continue;
    problems.add(childPath(path, key), 'is not a known key');
    valid = false;
  }
  const parsed: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(shape)) {
    const raw = Object.hasOwn(value, key) ? value[key] : undefined;
    const result = entry.parse(raw, childPath(path, key), problems);
    if (result === INVALID) valid = false;
    else parsed[key] = result;
  }
  return { value: parsed as Partial<Infer<S>>, valid };
}

export function object<S extends Shape>(shape: S): Rule<Infer<S>> {
  return (value, path, problems) => {
    const result = parseShape(shape, value, path, problems);
    return result.valid ? (result.value as Infer<S>) : INVALID;
  };
}

/**
 * A nested group of keys; leaving the whole group out means every default inside it. `check`
 * sees the keys that passed even when others did not, so its problems are not held back until
 * the next start.
 */
export function group<S extends Shape>(
  shape: S,
  check?: (value: Partial<Infer<S>>, report: Report) => void,
): Field<Infer<S>> {
  const rule: Rule<Infer<S>> = (value, path, problems) => {
    const result = parseShape(shape, value, path, problems);
    const checked = check === undefined || passes(check, result.value, path, problems);
    return result.valid && checked ? (result.value as Infer<S>) : INVALID;
  };
  return field(rule, {});
}
