// Where every revocation event this process learns of meets: its own (from the Revoker), other
// instances' (from the log follower or Redis), delivered once each to the revocation state and to
// subscribers (metrics, feed streams, fan-out).
//
// Sequence numbers come from the database and may commit out of order on PostgreSQL (a lower
// `seq` can become visible after a higher one), so "the highest seq seen" is not a safe resume
// point. The hub remembers holes for a short while and offers `safeCursor()`: the point below
// which nothing can still arrive. Resuming from it may deliver an event twice; applying an event
// twice is harmless, losing one is not.
import type { Clock } from './clock.js';
import type { RevocationEvent } from './model.js';
import type { RevocationState } from './revocation-state.js';

export type RevocationSubscriber = (event: RevocationEvent) => void;

/** How long a hole in the sequence is waited for before it counts as a rolled-back insert. */
export const SEQUENCE_GAP_WAIT_MS = 10_000;
const REMEMBERED_SEQUENCES = 100_000;

export class RevocationHub {
  private readonly subscribers = new Set<RevocationSubscriber>();
  private readonly seen = new Set<number>();
  /** Missing seq → when the hole was noticed. */
  private readonly holes = new Map<number, number>();
  private highest = 0;
  /** Sequences at or below this were forgotten to bound memory: long delivered, or never to come. */
  private forgottenUpTo = 0;

  constructor(
    private readonly state: RevocationState,
    private readonly clock: Clock,
  ) {}

  /** Start-up: the live events from the log. Holes among them are pruned events, not late ones. */
  seed(events: readonly RevocationEvent[]): void {
    for (const event of events) {
      this.remember(event.seq);
      this.state.apply(event);
      this.highest = Math.max(this.highest, event.seq);
    }
  }

  /** Delivers an event unless it was delivered before; returns whether it was new. */
  publish(event: RevocationEvent): boolean {
    if (this.seen.has(event.seq) || event.seq <= this.forgottenUpTo) return false;
    this.remember(event.seq);
    if (event.seq > this.highest) {
      const now = this.clock.now();
      for (let missing = this.highest + 1; missing < event.seq; missing++) {
        if (!this.seen.has(missing)) this.holes.set(missing, now);
      }
      this.highest = event.seq;
    } else {
      this.holes.delete(event.seq);
    }
    this.state.apply(event);
    for (const subscriber of this.subscribers) subscriber(event);
    return true;
  }

  /** Every event with a seq at or below this has been delivered (or will never exist). */
  safeCursor(): number {
    const now = this.clock.now();
    let lowestHole = Infinity;
    for (const [seq, noticed] of this.holes) {
      if (now - noticed > SEQUENCE_GAP_WAIT_MS) this.holes.delete(seq);
      else if (seq < lowestHole) lowestHole = seq;
    }
    return lowestHole === Infinity ? this.highest : lowestHole - 1;
  }

  subscribe(subscriber: RevocationSubscriber): () => void {
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  private remember(seq: number): void {
    this.seen.add(seq);
    if (this.seen.size > REMEMBERED_SEQUENCES) {
      // Sets iterate in insertion order: drop the oldest tenth in one go.
      let drop = REMEMBERED_SEQUENCES / 10;
      for (const old of this.seen) {
        if (drop-- <= 0) break;
        this.seen.delete(old);
        this.forgottenUpTo = Math.max(this.forgottenUpTo, old);
      }
    }
  }
}

/**
 * The resume cursor after a page of events read from the log: the last seq such that no
 * recent hole precedes it. Holes older than the wait are rolled-back inserts.
 */
export function safeCursorAfter(
  after: number,
  events: readonly RevocationEvent[],
  now: number,
): number {
  let cursor = after;
  for (const event of events) {
    const hole = event.seq !== cursor + 1;
    if (hole && now - event.at < SEQUENCE_GAP_WAIT_MS) return cursor;
    cursor = event.seq;
  }
  return cursor;
}
