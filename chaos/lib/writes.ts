import { until } from '@app/testing';
import { distanceChange } from './changes';
import { ensure } from './ensure';
import type { Stack } from './stack';

const TIMEOUT_MS = 15_000;

/** A genuine version and its envelope exactly as the manager published it. */
export interface GenuineEnvelope {
  version: number;
  bytes: Buffer;
}

/** Makes a new version, waits until every worker has it, and returns its envelope as seen on the bus. */
export async function genuineWrite(stack: Stack, signal: AbortSignal): Promise<GenuineEnvelope> {
  const write = await stack.api.patch(distanceChange());
  ensure(write.status === 200, `a setup write answered ${write.status}`);
  const { version } = write.body;
  await stack.fleetOn(version, { signal, timeoutMs: TIMEOUT_MS });
  const seen = await until(
    `v${version} seen on the bus`,
    () => stack.observer.configs.findLast((m) => m.version === version),
    { signal, timeoutMs: TIMEOUT_MS },
  );
  return { version, bytes: seen.bytes };
}
