import { randomInt } from 'node:crypto';
import { until } from '@app/testing';
import { ensure } from '../lib/ensure';
import { PatchWriter } from '../lib/patch-writer';
import type { Stack } from '../lib/stack';
import type { Scenario } from './scenario';

const WRITES_BEFORE_KILL = 2;
/** The outage lasts 1 to this many writes, a different length each run. */
const MAX_WRITES_WHILE_DOWN = 6;
const WRITES_AFTER_RESTART = 2;
const CONVERGENCE_TIMEOUT_MS = 30_000;

/**
 * 1. mosquitto is SIGKILLed (no persistence save, no wills) while an admin keeps PATCHing, and
 * started again: every write is still accepted, every worker ends on the latest version (which
 * the broker retains again for workers yet to come), and no worker ever applies a version lower
 * than one it applied before. Every other run first restarts
 * the broker gracefully, so it saves its retained messages and comes back from the kill with an
 * older config retained, which the workers must refuse as stale.
 */
export const brokerKill: Scenario = {
  id: 1,
  title: 'mosquitto SIGKILLed under writes',
  broker: 'acl',
  runTimeoutMs: 90_000,
  figure: { label: 'broker back → every worker on the latest version', unit: 'ms' },
  async run({ stack, signal, index, log }) {
    if (index % 2 === 1) {
      await stack.broker.stop();
      await stack.broker.start();
      const { version } = (await stack.api.config()).body;
      await stack.fleetOn(version, { signal, timeoutMs: CONVERGENCE_TIMEOUT_MS });
    }
    const staleBefore = await staleCount(stack);
    const writer = new PatchWriter(stack.api);
    try {
      await writer.waitForAccepted(WRITES_BEFORE_KILL, signal);
      await stack.broker.kill('SIGKILL');
      await until(
        'manager notices the broker is gone',
        async () => (await stack.api.ready()).status === 503 || undefined,
        { signal, timeoutMs: 15_000 },
      );
      const down = writer.accepted.length;
      await writer.waitForAccepted(down + randomInt(1, MAX_WRITES_WHILE_DOWN + 1), signal);
      const unpublished = writer.accepted.slice(down).filter((w) => !w.published).length;
      await stack.broker.start();
      const back = Date.now();
      await writer.waitForAccepted(writer.accepted.length + WRITES_AFTER_RESTART, signal);
      await writer.stop();

      ensure(writer.refused.length === 0, `writes refused: ${writer.refused.join('; ')}`);
      ensure(
        unpublished > 0,
        'no write was accepted unpublished while the broker was down: the outage did not happen',
      );
      await stack.fleetOn(writer.latest, { signal, timeoutMs: CONVERGENCE_TIMEOUT_MS });
      const converged = Date.now() - back;
      await until(
        `the broker retains v${writer.latest}`,
        async () => (await stack.observer.retainedConfigVersion()) === writer.latest || undefined,
        { signal, timeoutMs: CONVERGENCE_TIMEOUT_MS, intervalMs: 100 },
      );
      log(`stale configs refused by the workers: ${(await staleCount(stack)) - staleBefore}`);
      const regressions = stack.regressions();
      ensure(regressions.length === 0, `a worker went back: ${regressions.join('; ')}`);
      return converged;
    } finally {
      await writer.stop();
    }
  },
};

/** Stale configs (older than the applied one) refused by all workers so far. */
async function staleCount(stack: Stack): Promise<number> {
  const views = await Promise.all(stack.workers.map((w) => w.view()));
  return views.reduce((sum, view) => sum + (view.rejected.stale ?? 0), 0);
}
