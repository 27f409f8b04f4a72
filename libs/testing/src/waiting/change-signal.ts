/**
 * Waits on state that events change (messages received, output lines printed, packets read):
 * the owner calls `notify()` on each change, and every pending `until` checks again at once,
 * with no polling interval.
 */
export class ChangeSignal {
  private readonly waiters = new Set<() => void>();

  /** Wakes every pending wait (call it after each change). */
  notify(): void {
    for (const wake of [...this.waiters]) wake();
  }

  /**
   * Resolves with what `check` returns once that is not undefined, checked now and after each
   * change; throws `failure()` after `timeoutMs`.
   */
  async until<T>(check: () => T | undefined, timeoutMs: number, failure: () => string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = check();
      if (found !== undefined) return found;
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(failure());
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, remaining);
        this.waiters.add(wake);
      });
    }
  }
}
