import type { ConfigClient } from '../../src/config-client';
import type { ConfigClientEvents } from '../../src/config-client.events';

/** Resolves with the next event of `event` that matches, or fails after `timeoutMs`. */
export function nextEvent<T extends object, K extends keyof ConfigClientEvents>(
  client: ConfigClient<T>,
  event: K,
  match: (payload: ConfigClientEvents[K]) => boolean = () => true,
  timeoutMs = 5000,
): Promise<ConfigClientEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no matching "${String(event)}" event within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = client.on(event, (payload) => {
      if (match(payload)) {
        clearTimeout(timer);
        off();
        resolve(payload);
      }
    });
  });
}
