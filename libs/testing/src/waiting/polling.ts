/**
 * Reads until `check` accepts the value or `timeoutMs` passes, then returns the last value read,
 * for the test's own assertions (which then fail with a useful diff). For state that changes
 * asynchronously (MQTT, probes); never a fixed sleep.
 */
export async function eventually<T>(
  read: () => PromiseLike<T>,
  check: (value: T) => boolean,
  timeoutMs = 3000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (check(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** How `until` polls. */
export interface PollOptions {
  timeoutMs: number;
  /** Pause between two probes (default 50 ms). */
  intervalMs?: number;
  /** Aborts the wait early (a run's deadline). */
  signal?: AbortSignal;
  /** The state seen, for the timeout message. */
  describe?: () => string;
}

/**
 * Calls `probe` until it returns something other than undefined and returns that. A probe that
 * throws counts as "not yet" (a process may be restarting). Throws after `timeoutMs`, or when
 * `signal` aborts, naming `what`, the probe's last error and the state `describe` gives.
 */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  { timeoutMs, intervalMs = 50, signal, describe }: PollOptions,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  for (;;) {
    signal?.throwIfAborted();
    try {
      const value = await probe();
      if (value !== undefined) return value;
      last = 'condition not met';
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() >= deadline) {
      const state = describe ? `; state: ${describe()}` : '';
      throw new Error(`${what}: not within ${timeoutMs} ms (last: ${last}${state})`);
    }
    await pause(intervalMs, signal);
  }
}

/** Waits `ms` between probes (never used to wait for a condition: see `until`). */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A signal that aborts after `ms` with an error naming `what` (the timer does not keep the process alive). */
export function timeLimit(ms: number, what: string): AbortSignal {
  const controller = new AbortController();
  setTimeout(
    () => controller.abort(new Error(`${what} (${Math.round(ms / 1000)} s) is up`)),
    ms,
  ).unref();
  return controller.signal;
}
