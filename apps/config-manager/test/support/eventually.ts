/**
 * Reads until `check` accepts the value or `timeoutMs` passes, then returns the last value read,
 * for the test's own assertions (which then fail with a useful diff). For state that changes
 * asynchronously (MQTT, probes); never a fixed sleep.
 */
export async function eventually<T>(
  read: () => Promise<T>,
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
