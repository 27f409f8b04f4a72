import type { ThrottlerStorage } from '@nestjs/throttler';

/** What @nestjs/throttler expects back from a storage (its record type is not exported at the root). */
type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

interface Window {
  count: number;
  resetAt: number;
  blockedUntil: number;
}

/** Expired windows are swept after this many increments (no timers: tests start many apps). */
const SWEEP_EVERY = 1000;

/**
 * Rate-limit counters in O(1) per request: one fixed window per client and throttler. The
 * library's default storage keeps a timestamp per hit and filters them all on every request,
 * which made a busy manager measurably slower the more requests a window held. A fixed window
 * may let a client make up to twice the limit across a window boundary; for flood protection
 * that is fine.
 */
export class FixedWindowThrottlerStorage implements ThrottlerStorage {
  private readonly windows = new Map<string, Window>();
  private increments = 0;

  increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    const now = Date.now();
    if (++this.increments % SWEEP_EVERY === 0) this.sweep(now);
    const id = `${throttlerName}\0${key}`;
    let window = this.windows.get(id);
    if (!window || (window.resetAt <= now && window.blockedUntil <= now)) {
      window = { count: 0, resetAt: now + ttl, blockedUntil: 0 };
      this.windows.set(id, window);
    }
    if (window.blockedUntil <= now) {
      window.count++;
      if (window.count > limit) window.blockedUntil = now + (blockDuration || ttl);
    }
    const blocked = window.blockedUntil > now;
    return Promise.resolve({
      totalHits: window.count,
      timeToExpire: Math.max(0, Math.ceil((window.resetAt - now) / 1000)),
      isBlocked: blocked,
      timeToBlockExpire: blocked ? Math.ceil((window.blockedUntil - now) / 1000) : 0,
    });
  }

  private sweep(now: number): void {
    for (const [id, window] of this.windows) {
      if (window.resetAt <= now && window.blockedUntil <= now) this.windows.delete(id);
    }
  }
}
