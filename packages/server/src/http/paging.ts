// Cursor paging for list endpoints: opaque cursors, a bounded limit, a clear 400 when either is bad.
import { ProblemError } from '../core/errors.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;

export function parseLimit(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_PAGE_SIZE;
  if (!/^\d{1,3}$/.test(raw)) throw new ProblemError('validation_failed', 'limit must be 1 to 100');
  const limit = Number(raw);
  if (limit < 1 || limit > MAX_PAGE_SIZE) {
    throw new ProblemError('validation_failed', 'limit must be 1 to 100');
  }
  return limit;
}

export function encodeCursor(position: string | number): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

export function decodeCursor<T extends 'string' | 'number'>(
  raw: string | undefined,
  kind: T,
): (T extends 'string' ? string : number) | undefined {
  if (raw === undefined) return undefined;
  let value: unknown;
  try {
    value = /^[A-Za-z0-9_-]{1,200}$/.test(raw)
      ? JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'))
      : undefined;
  } catch {
    value = undefined;
  }
  const ok =
    kind === 'string'
      ? typeof value === 'string' && !value.includes('\u0000')
      : Number.isSafeInteger(value);
  if (!ok) throw new ProblemError('validation_failed', 'cursor is not valid');
  return value as T extends 'string' ? string : number;
}
