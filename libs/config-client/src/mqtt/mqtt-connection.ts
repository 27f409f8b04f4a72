import type { MqttClient } from 'mqtt';

/** A broker URL without its credentials, for log lines and readiness. */
export function safeUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//');
}

/**
 * mqtt.js opens its TCP socket with Nagle's algorithm on: a small PUBLISH sent right after a
 * PUBACK then waits for the broker's delayed ACK (~40 ms on Linux). Config updates and health
 * reports are small and latency-sensitive, so send them at once. Call it on every 'connect'.
 */
export function disableNagle(client: MqttClient): void {
  const stream = client.stream as { setNoDelay?: (noDelay: boolean) => void } | undefined;
  stream?.setNoDelay?.(true);
}

/** `promise`'s value, or false once `ms` have passed first. */
export async function withTimeout<R>(promise: Promise<R>, ms: number): Promise<R | false> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Publishes with QoS 1 and resolves true once the broker acknowledged it; false (never throws)
 * when not connected, refused, or no PUBACK arrived within `timeoutMs`. `onError` hears why a
 * publish failed (the caller logs it in its own words).
 */
export async function publishAcknowledged(
  client: MqttClient | undefined,
  topic: string,
  payload: Buffer | string,
  options: { retain: boolean; timeoutMs: number; onError?: (error: Error) => void },
): Promise<boolean> {
  if (!client?.connected) return false;
  try {
    const acknowledged = client
      .publishAsync(topic, payload, { qos: 1, retain: options.retain })
      .then(() => true);
    return await withTimeout(acknowledged, options.timeoutMs);
  } catch (error) {
    options.onError?.(error instanceof Error ? error : new Error(String(error)));
    return false;
  }
}
