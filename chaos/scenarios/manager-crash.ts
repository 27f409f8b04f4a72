import { type DistanceChange, distanceChange } from '../lib/changes';
import { ensure } from '../lib/ensure';
import { SERVICE } from '../lib/stack';
import type { Scenario } from './scenario';

const CONVERGENCE_TIMEOUT_MS = 60_000;

/**
 * 2. config-manager dies between the database commit and the publish (the test hook
 * CHAOS_EXIT_AFTER_COMMIT makes it SIGKILL itself there): the version is committed but never
 * reached the broker. After a plain restart the outbox delivers it to every worker.
 */
export const managerCrash: Scenario = {
  id: 2,
  title: 'manager killed between commit and publish',
  broker: 'acl',
  runTimeoutMs: 120_000,
  figure: { label: 'manager restart → every worker on the committed version', unit: 'ms' },
  async run({ stack, signal }) {
    const before = (await stack.api.config()).body.version;
    await stack.manager.stop();
    await stack.manager.start({ CHAOS_EXIT_AFTER_COMMIT: '1' });

    const change = distanceChange();
    const answer = await stack.api.patch(change).then(
      (res) => `answered ${res.status}`,
      () => 'no answer',
    );
    ensure(answer === 'no answer', `the PATCH ${answer}: the manager did not die after the commit`);
    await stack.manager.exited;

    const committed = before + 1;
    const row = await stack.postgres.outbox(SERVICE);
    ensure(
      row.currentVersion === committed,
      `the database is at v${row.currentVersion}, not the committed v${committed}`,
    );
    ensure(
      (row.publishedVersion ?? 0) < committed,
      `the outbox mark is already at v${row.publishedVersion}: the version was published`,
    );
    const onBus = stack.observer.configs.filter((m) => m.version === committed).length;
    ensure(onBus === 0, `v${committed} crossed the bus before the crash`);

    const restarted = Date.now();
    await stack.manager.start();
    const state = (await stack.api.config()).body;
    const geo = state.config.geo as DistanceChange['geo'];
    ensure(
      state.version === committed && geo.max_distance_km === change.geo.max_distance_km,
      `after the restart the manager serves v${state.version}, not the committed write v${committed}`,
    );
    await stack.fleetOn(committed, { signal, timeoutMs: CONVERGENCE_TIMEOUT_MS });
    const recovered = Date.now() - restarted;
    const regressions = stack.regressions();
    ensure(regressions.length === 0, `a worker went back: ${regressions.join('; ')}`);
    return recovered;
  },
};
