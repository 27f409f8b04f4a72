import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { until } from '@app/testing';
import { dropBatch, reportFor } from '../lib/batches';
import { ensure } from '../lib/ensure';
import type { Scenario } from './scenario';

/** Big enough that a run lasts over a second, so the kill lands inside it. */
const BATCH_EVENTS = 2000;
const TIMEOUT_MS = 30_000;

/**
 * 4. A worker is SIGKILLed while a run processes a batch from its INPUT_DIR, and restarted while
 * the broker is down: it resumes from its last-known-good file (the interrupted batch's report
 * names that version, its /metrics and /health say degraded) and reports online once the broker
 * returns.
 */
export const workerCrash: Scenario = {
  id: 4,
  title: 'worker SIGKILLed mid-run, restarted without broker',
  broker: 'acl',
  runTimeoutMs: 90_000,
  figure: { label: 'broker back → restarted worker online', unit: 'ms' },
  async run({ stack, signal, index }) {
    const worker = stack.workers[index % stack.workers.length];
    const { version } = (await stack.api.config()).body;
    const file = await dropBatch(worker.inbox, BATCH_EVENTS);
    const claimed = join(worker.claimDir, file);
    await until('the worker takes the batch into a run', () => existsSync(claimed) || undefined, {
      signal,
      timeoutMs: TIMEOUT_MS,
      intervalMs: 5,
    });
    await worker.kill('SIGKILL');
    ensure(existsSync(claimed), 'the run had finished before the kill: it was not killed mid-run');

    await stack.broker.stop();
    await worker.start();
    const degraded = await worker.view();
    ensure(
      degraded.status === 'degraded' && degraded.degraded && degraded.appliedVersion === version,
      `restarted without broker, ${worker.instanceId} reports ${JSON.stringify(degraded)}, not degraded on v${version}`,
    );
    const report = await reportFor(worker.outbox, file, { signal, timeoutMs: TIMEOUT_MS });
    ensure(
      report.configVersion === version && report.configSource === 'lkg',
      `the resumed run used v${report.configVersion} from ${report.configSource}, not last-known-good v${version}`,
    );

    await stack.broker.start();
    const back = Date.now();
    await until(
      `${worker.instanceId} reports online`,
      async () => ((await worker.view()).status === 'online' ? true : undefined),
      { signal, timeoutMs: TIMEOUT_MS, intervalMs: 20 },
    );
    const online = Date.now() - back;
    await stack.fleetOn(version, { signal, timeoutMs: TIMEOUT_MS });
    const regressions = stack.regressions();
    ensure(regressions.length === 0, `a worker went back: ${regressions.join('; ')}`);
    return online;
  },
};
