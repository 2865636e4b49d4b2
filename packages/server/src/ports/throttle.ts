// Counters for abuse throttling. They live in a shared store (the database, or Redis when
// configured) so that a limit holds however many instances serve the traffic.

export interface ThrottleStore {
  /** The latest block among `keys` still in force at `now`, or 0. */
  blockedUntil(keys: readonly string[], now: number): Promise<number>;
  /**
   * Counts one failure and returns the consecutive count. A key whose last failure is older than
   * `resetAfterMs` starts again at 1. Atomic: concurrent failures are all counted.
   */
  recordFailure(key: string, now: number, resetAfterMs: number): Promise<number>;
  /** Refuses the key until `until` (never shortens an existing block). */
  block(key: string, until: number): Promise<void>;
  /** Forgets the key (a successful login clears its account's failures). */
  clear(key: string): Promise<void>;
}
