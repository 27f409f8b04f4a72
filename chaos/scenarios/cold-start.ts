import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { until } from '@app/testing';
import { dropBatch, reportFor } from '../lib/batches';
import { distanceChange } from '../lib/changes';
import { ensure } from '../lib/ensure';
import type { Scenario } from './scenario';

const TIMEOUT_MS = 30_000;
const BATCH_EVENTS = 50;

/** The part of /health/ready a cold start is read from. */
interface ReadyBody {
  status?: string;
  checks?: { database?: { status?: string; reason?: string } };
}

/**
 * 14. The manager starts while Postgres is unreachable (docs/recovery.md, "Cold start from a
 * snapshot"): it boots read-only from DATA_DIR/snapshot.json, /health/ready 503 naming the cold
 * start, GET config served with X-Read-Only and the snapshot's version, writes 503 with
 * Retry-After, the workers stay online on their version. When the database returns the manager
 * becomes ready without a restart and the next PATCH reaches every worker.
 */
export const coldStart: Scenario = {
  id: 14,
  title: 'manager cold start without its database',
  broker: 'acl',
  runTimeoutMs: 120_000,
  figure: { label: 'database back → first write on every worker', unit: 'ms' },
  async run({ stack, signal, log }) {
    const wait = { signal, timeoutMs: TIMEOUT_MS };
    // A publish of this run's own, so the snapshot has something to be current about.
    const write = await stack.api.patch(distanceChange());
    ensure(write.status === 200, `the PATCH before the outage answered ${write.status}`);
    const { version } = write.body;
    await stack.fleetOn(version, wait);
    await stack.manager.stop();
    const snapshot = join(stack.manager.dataDir, 'snapshot.json');
    ensure(existsSync(snapshot), `the manager left no ${snapshot}`);
    const mode = statSync(snapshot).mode & 0o777;
    ensure(mode === 0o600, `snapshot.json has mode ${mode.toString(8)}, not 600`);

    stack.postgres.stop();
    await stack.manager.start();

    const ready = await stack.api.ready();
    const reason = (ready.body as ReadyBody).checks?.database?.reason ?? '';
    ensure(
      ready.status === 503 && /cold start/.test(reason),
      `/health/ready answered ${ready.status} (${JSON.stringify(ready.body)}), not 503 naming the cold start`,
    );
    const read = await stack.api.config();
    ensure(
      read.status === 200 &&
        read.headers.get('x-read-only') === 'true' &&
        read.body.version === version,
      `GET config answered ${read.status} with v${read.body.version} (X-Read-Only ${read.headers.get('x-read-only')}), not the snapshot's v${version} read-only`,
    );
    const refused = await stack.api.patch(distanceChange());
    ensure(
      refused.status === 503 && refused.headers.get('retry-after') !== null,
      `a PATCH during the cold start answered ${refused.status} (Retry-After ${refused.headers.get('retry-after')}): ${JSON.stringify(refused.body)}`,
    );
    const retained = await stack.observer.retainedConfigVersion();
    ensure(retained === version, `the broker retains v${retained}, not the snapshot's v${version}`);
    // The workers keep working on what they have.
    await Promise.all(
      stack.workers.map(async (worker) => {
        const file = await dropBatch(worker.inbox, BATCH_EVENTS);
        const report = await reportFor(worker.outbox, file, wait);
        ensure(
          report.configVersion === version,
          `${worker.instanceId} ran on v${report.configVersion} during the cold start, not v${version}`,
        );
      }),
    );
    await stack.fleetOn(version, wait);
    const still = await stack.api.ready();
    ensure(still.status === 503, `/health/ready answered ${still.status} with the database down`);

    stack.postgres.start();
    const back = Date.now();
    await until(
      'the manager ready after the database returned',
      async () => (await stack.api.ready()).status === 200 || undefined,
      { ...wait, intervalMs: 20 },
    );
    const readyMs = Date.now() - back;
    const after = await stack.api.patch(distanceChange());
    ensure(
      after.status === 200 && after.body.version === version + 1,
      `the first write after the database returned answered ${after.status}: ${JSON.stringify(after.body)}`,
    );
    ensure(after.headers.get('x-read-only') === null, 'the manager still says read-only');
    await stack.fleetOn(version + 1, wait);
    const appliedMs = Date.now() - back;
    log(`database back → ready ${readyMs} ms, → first write on every worker ${appliedMs} ms`);
    const regressions = stack.regressions();
    ensure(regressions.length === 0, `a worker went back: ${regressions.join('; ')}`);
    return appliedMs;
  },
};
