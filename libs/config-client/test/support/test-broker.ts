import { startAedes, type TestBroker } from '@app/testing';

/**
 * The SDK tests' broker: aedes without the manager's packet size guard, so that an oversized
 * message reaches the client under test, whose own size limit is what is tested.
 */
export function startTestBroker(): Promise<TestBroker> {
  return startAedes({ packetSizeGuard: false });
}
