/** What the model said about a pair, before the confidence threshold is applied. */
export interface AiVerdict {
  sameEvent: boolean;
  confidence: number;
  reason: string;
}

/** Default number of verdicts kept: enough for several runs' ambiguous pairs, a few MB at most. */
export const DEFAULT_AI_CACHE_ENTRIES = 10_000;

/**
 * Verdicts by content hash, least recently used evicted first; the caller keeps one instance
 * across runs so a pair already asked about is not paid for again.
 */
export class AiDecisionCache {
  private readonly entries = new Map<string, AiVerdict>();

  constructor(readonly maxEntries = DEFAULT_AI_CACHE_ENTRIES) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new RangeError(`cache size must be a positive integer (got ${maxEntries})`);
    }
  }

  /** Number of verdicts held. */
  get size(): number {
    return this.entries.size;
  }

  /** The verdict for a content hash, marking it recently used. */
  get(hash: string): AiVerdict | undefined {
    const verdict = this.entries.get(hash);
    if (verdict !== undefined) {
      // Map keeps insertion order: re-inserting moves the entry to the most-recent end.
      this.entries.delete(hash);
      this.entries.set(hash, verdict);
    }
    return verdict;
  }

  /** Stores a verdict, evicting the least recently used one when full. */
  set(hash: string, verdict: AiVerdict): void {
    this.entries.delete(hash);
    this.entries.set(hash, verdict);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) {
        this.entries.delete(oldest.value);
      }
    }
  }
}
