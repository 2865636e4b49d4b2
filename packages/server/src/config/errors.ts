/**
 * Thrown when the configuration cannot be used. `problems` holds one `key.path: problem` line per
 * fault found, so an operator fixes them all in one go rather than one per restart. Values are
 * never quoted back: the file holds secrets and database credentials.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(['Invalid Latchkey configuration:', ...problems.map((line) => `  ${line}`)].join('\n'));
    this.problems = Object.freeze([...problems]);
  }
}
