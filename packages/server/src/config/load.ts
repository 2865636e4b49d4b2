// Start-up configuration: the JSON file named by LATCHKEY_CONFIG, then environment overrides,
// validated in one pass against schema.ts and frozen. Nothing here reads process.env itself; the
// caller passes the environment in, which keeps tests free of globals and files.

import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { ConfigError } from './errors.js';
import { isPlainObject, parseShape, Problems } from './rules.js';
import type { ConfigFile } from './schema.js';
import { fileShape, findIssuerProblem } from './schema.js';
import type { LatchkeyConfig } from './types.js';

export { ConfigError } from './errors.js';
export { parseDuration } from './duration.js';

export type Env = Readonly<Record<string, string | undefined>>;

export interface LoadConfigOptions {
  readonly env: Env;
  /** Reads the file named by LATCHKEY_CONFIG; defaults to reading it from disk as UTF-8. */
  readonly readFile?: (path: string) => string;
}

// Each variable overrides one key of the file. An empty value counts as unset, because compose
// files and shell defaults (`${VAR:-}`) produce empty strings for "not configured".
const ENV_OVERRIDES: Readonly<Record<string, string>> = {
  LATCHKEY_PORT: 'port',
  LATCHKEY_HOST: 'host',
  LATCHKEY_DATA_DIR: 'dataDir',
  LATCHKEY_ISSUER: 'issuer',
  LATCHKEY_DATABASE_URL: 'databaseUrl',
  LATCHKEY_DATABASE_STATEMENT_TIMEOUT: 'databaseStatementTimeout',
  LATCHKEY_REDIS_URL: 'redisUrl',
  LATCHKEY_LOG_LEVEL: 'logLevel',
  LATCHKEY_HS256_SECRET: 'tokens.hs256Secret',
  LATCHKEY_KEY_ENCRYPTION_SECRET: 'keys.encryptionSecret',
};

export function loadConfig(options: LoadConfigOptions): LatchkeyConfig {
  const path = options.env['LATCHKEY_CONFIG'];
  const file = path ? readConfigFile(path, options.readFile ?? readUtf8) : {};
  return validateConfig(file, options.env);
}

/** The parsed file contents plus `env` overrides, as a frozen config; throws ConfigError. */
export function validateConfig(file: unknown, env: Env = {}): LatchkeyConfig {
  const labels = new Map<string, string>();
  let merged = file;
  for (const [name, key] of Object.entries(ENV_OVERRIDES)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    merged = setKey(merged, key.split('.'), key === 'port' ? parsePort(value) : value);
    labels.set(key, `${key} (from ${name})`);
  }
  const problems = new Problems(labels);
  const { value: parsed, valid } = parseShape(fileShape, merged, '', problems);
  const issuer = resolveIssuer(parsed, problems);
  if (!valid || issuer === null) throw new ConfigError(problems.lines);
  return deepFreeze(buildConfig(parsed as ConfigFile, issuer));
}

/** The issuer, or null once the reason is recorded (possibly by the rules of issuer/host/port). */
function resolveIssuer(
  { issuer, host, port }: Partial<ConfigFile>,
  problems: Problems,
): string | null {
  if (issuer !== null) return issuer ?? null; // set, or invalid and so already reported
  if (host === undefined || port === undefined) return null;
  const text = `http://${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
  // A host Node can bind to may still be no URL host, e.g. an IPv6 address with a zone.
  const derived = URL.canParse(text) ? new URL(text).origin : null;
  const problem = derived === null ? null : findIssuerProblem(derived);
  if (derived !== null && problem === null) return derived;
  const reason = derived === null ? 'host does not form a URL' : `"${derived}" ${problem}`;
  problems.add('issuer', `is required: its default from host and port fails: ${reason}`);
  return null;
}

function buildConfig(file: ConfigFile, issuer: string): LatchkeyConfig {
  return {
    ...file,
    issuer,
    cookies: { ...file.cookies, secure: new URL(issuer).protocol === 'https:' },
    clients: file.clients.map((client) => ({
      ...client,
      audience: client.audience ?? issuer,
      accessTtl: client.accessTtl ?? file.tokens.accessTtl,
    })),
  };
}

/** A copy of `target` with `value` at `keys`, creating groups the file left out. */
function setKey(target: unknown, [key, ...rest]: readonly string[], value: unknown): unknown {
  if (key === undefined) return value;
  // A group of the wrong type stays as it is, so validation reports it under its own key.
  if (target !== undefined && !isPlainObject(target)) return target;
  const base = target ?? {};
  return { ...base, [key]: setKey(Object.hasOwn(base, key) ? base[key] : undefined, rest, value) };
}

// Anything but digits is passed on as text, for the port rule to refuse with the usual message.
function parsePort(value: string): unknown {
  return /^\d+$/.test(value) ? Number(value) : value;
}

function readUtf8(path: string): string {
  return readFileSync(path, 'utf8');
}

function readConfigFile(path: string, readFile: (path: string) => string): unknown {
  let text: string;
  try {
    // A byte-order mark is invisible in editors but not valid JSON.
    text = readFile(path).replace(/^\uFEFF/, '');
  } catch (error) {
    throw new ConfigError([`LATCHKEY_CONFIG: cannot read "${path}" (${describeReadError(error)})`]);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    // The parser's own message can quote the file, secrets included; give the position only.
    throw new ConfigError([`LATCHKEY_CONFIG: "${path}" is not valid JSON${locate(text, error)}`]);
  }
}

function describeReadError(error: unknown): string {
  if (error instanceof Error && 'code' in error && typeof error.code === 'string') {
    return error.code;
  }
  return 'read failed';
}

function locate(text: string, error: unknown): string {
  const position =
    error instanceof Error ? /at position (\d+)/.exec(error.message)?.[1] : undefined;
  if (position === undefined) return '';
  const lines = text.slice(0, Number(position)).split('\n');
  return ` (line ${lines.length}, column ${(lines.at(-1)?.length ?? 0) + 1})`;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value) as unknown[]) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
