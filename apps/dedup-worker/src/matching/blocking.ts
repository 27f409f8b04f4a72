import type { DateConfig } from '@app/contracts';
import { MAX_SAME_EVENT_GAP_MINUTES } from './scoring';

/** How many time_close_minutes apart two starts may be and still be compared. */
export const BLOCKING_WINDOW_FACTOR = 2;

/** What blocking needs of an event. */
export interface Blockable {
  key: string;
  startMs: number;
}

/** Candidate pairs and how many there are. */
export interface BlockingResult {
  /**
   * Pair i is (pairs[2i], pairs[2i + 1]), indices into the blocked list with left < right; flat
   * rather than one array per pair because a run holds millions of them.
   */
  pairs: Uint32Array;
  pairsCompared: number;
}

/**
 * Width of the blocking window in minutes: 2 × time_close_minutes (a misreported start, such as
 * doors versus show or a time-zone slip, stays within that), capped at 24 h.
 */
export function blockingWindowMinutes(config: DateConfig): number {
  return Math.min(BLOCKING_WINDOW_FACTOR * config.time_close_minutes, MAX_SAME_EVENT_GAP_MINUTES);
}

/**
 * Pairs of events whose starts are within the blocking window, found by sorting by start and
 * sliding the window, so the cost grows with n × (events per window), not n². Two entries with the
 * same key (the same source and id) are never paired; pairs come out in start order.
 */
export function blockCandidatePairs(
  events: readonly Blockable[],
  config: DateConfig,
): BlockingResult {
  const windowMs = blockingWindowMinutes(config) * 60_000;
  // Ties broken by key and then index so that the pair list does not depend on input order.
  // An unreadable start (not possible after parseBatch) cannot be placed in time, so it is never paired.
  const order = events
    .map((_, index) => index)
    .filter((index) => Number.isFinite(events[index].startMs))
    .sort(
      (a, b) =>
        events[a].startMs - events[b].startMs ||
        compareStrings(events[a].key, events[b].key) ||
        a - b,
    );
  const pairs: number[] = [];
  for (let i = 0; i < order.length; i += 1) {
    const left = events[order[i]];
    for (let j = i + 1; j < order.length; j += 1) {
      const right = events[order[j]];
      if (right.startMs - left.startMs > windowMs) {
        break;
      }
      if (right.key !== left.key) {
        pairs.push(Math.min(order[i], order[j]), Math.max(order[i], order[j]));
      }
    }
  }
  return { pairs: Uint32Array.from(pairs), pairsCompared: pairs.length / 2 };
}

/** Code-unit order, independent of the locale. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
