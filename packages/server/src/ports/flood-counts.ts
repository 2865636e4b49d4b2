// Request counts per address that every instance adds to and reads back, so the per-address flood
// limits hold across instances (http/rate-limit.ts). Redis implements it.

export interface SharedFloodCounts {
  /**
   * Adds each key's hits to its count for the window that starts at `windowStart` (ms since the
   * epoch, a multiple of `windowMs`) and returns each key's count after the addition: the hits of
   * every instance together. Counts of a window may be forgotten once it has ended.
   */
  add(
    windowStart: number,
    windowMs: number,
    hits: ReadonlyMap<string, number>,
  ): Promise<Map<string, number>>;
}
