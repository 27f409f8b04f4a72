import { until } from '@app/testing';
import type { ApiResponse } from '../lib/api';
import { dropBatch, reportFor } from '../lib/batches';
import { distanceChange } from '../lib/changes';
import { ensure } from '../lib/ensure';
import type { Scenario } from './scenario';

const WRITES_DURING_OUTAGE = 5;
const BATCH_EVENTS = 50;
const TIMEOUT_MS = 20_000;

/**
 * 3. Postgres is stopped under the running system: the manager goes read-only as the design says
 * (current configs keep answering with X-Read-Only, writes and history answer 503 with
 * Retry-After, never 500), the workers keep running on their config, and once Postgres is back
 * the very next PATCH succeeds with no manual step.
 */
export const postgresOutage: Scenario = {
  id: 3,
  title: 'Postgres stopped under the manager',
  broker: 'acl',
  runTimeoutMs: 90_000,
  figure: { label: 'Postgres back → next write on every worker', unit: 'ms' },
  async run({ stack, signal }) {
    const { version } = (await stack.api.config()).body;
    stack.postgres.stop();

    // The first write may be the one that finds the database gone.
    const writes: ApiResponse<unknown>[] = [];
    writes.push(await stack.api.patch(distanceChange()));
    const readOnly = await until(
      'GET config answers read-only',
      async () => {
        const res = await stack.api.config();
        return res.headers.get('x-read-only') === 'true' ? res : undefined;
      },
      { signal, timeoutMs: TIMEOUT_MS, intervalMs: 20 },
    );
    ensure(
      readOnly.status === 200 && readOnly.body.version === version,
      `read-only GET config answered ${readOnly.status} with v${readOnly.body.version}, not v${version}`,
    );
    for (let i = 1; i < WRITES_DURING_OUTAGE; i++)
      writes.push(await stack.api.patch(distanceChange()));
    for (const write of writes) {
      ensure(
        write.status === 503 && write.headers.get('retry-after') !== null,
        `a write during the outage answered ${write.status} (Retry-After ${write.headers.get('retry-after')}): ${JSON.stringify(write.body)}`,
      );
    }
    const history = await stack.api.versions(10);
    ensure(history.status === 503, `history during the outage answered ${history.status}`);
    const ready = await stack.api.ready();
    ensure(ready.status === 503, `/health/ready during the outage answered ${ready.status}`);

    // Workers keep working on what they have: a batch is processed with the current version.
    await Promise.all(
      stack.workers.map(async (worker) => {
        const file = await dropBatch(worker.inbox, BATCH_EVENTS);
        const report = await reportFor(worker.outbox, file, { signal, timeoutMs: TIMEOUT_MS });
        ensure(
          report.configVersion === version,
          `${worker.instanceId} ran on v${report.configVersion} during the outage, not v${version}`,
        );
      }),
    );
    await stack.fleetOn(version, { signal, timeoutMs: TIMEOUT_MS });

    stack.postgres.start();
    const back = Date.now();
    const after = await stack.api.patch(distanceChange());
    ensure(
      after.status === 200 && after.body.version === version + 1,
      `the first write after Postgres returned answered ${after.status}: ${JSON.stringify(after.body)}`,
    );
    ensure(after.headers.get('x-read-only') === null, 'the manager still says read-only');
    await stack.fleetOn(version + 1, { signal, timeoutMs: TIMEOUT_MS });
    return Date.now() - back;
  },
};
