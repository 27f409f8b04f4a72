import { join } from 'node:path';
import type { ConfigState, ManagerApi } from '../lib/api';
import { type DistanceChange, distanceChange } from '../lib/changes';
import { ensure } from '../lib/ensure';
import { npmScript } from '../lib/npm-script';
import type { WorkerNode } from '../lib/worker';
import type { Scenario } from './scenario';

const TIMEOUT_MS = 30_000;
/** Writes before the backup (v1 → v3 on a fresh stack) and after it (v3 → v6). */
const WRITES_BEFORE = 2;
const WRITES_AFTER = 3;

/**
 * 13. An operator restores an older backup under a running fleet (docs/recovery.md, "Backups and
 * restores that strand nobody"): `npm run backup` at v3, writes to v6 that every worker applies,
 * the manager stopped, `npm run restore`, the manager started. The store is behind what the
 * workers run; the manager writes v7 of kind `restore` with the v3 content, audited, and every
 * worker moves to it; none ever goes back to a lower version.
 */
export const restore: Scenario = {
  id: 13,
  title: 'older backup restored under the fleet',
  broker: 'acl',
  runTimeoutMs: 120_000,
  figure: { label: 'manager start → every worker on the restore version', unit: 'ms' },
  async run({ stack, signal, log }) {
    const wait = { signal, timeoutMs: TIMEOUT_MS };
    let backedUp = (await stack.api.config()).body;
    for (let i = 0; i < WRITES_BEFORE; i++) backedUp = await write(stack.api, distanceChange());
    const backupKm = kmOf(backedUp.config);
    const file = join(stack.dir, `backup-v${backedUp.version}-run${Date.now()}.dump`);
    const env = stack.manager.environment();
    const backup = await npmScript('backup', ['--out', file], env);
    ensure(backup.code === 0, `npm run backup exited ${backup.code}: ${backup.stderr.trim()}`);

    let latest = backedUp;
    for (let i = 0; i < WRITES_AFTER; i++) latest = await write(stack.api, distanceChange());
    await stack.fleetOn(latest.version, wait);
    await stack.manager.stop();

    const restored = await npmScript('restore', [file], env);
    ensure(
      restored.code === 0,
      `npm run restore exited ${restored.code}: ${restored.stderr.trim()}`,
    );
    log(`backup at v${backedUp.version}, fleet on v${latest.version}, restored`);

    const started = Date.now();
    await stack.manager.start();
    const expected = latest.version + 1;
    await stack.fleetOn(expected, wait);
    const figure = Date.now() - started;

    const current = (await stack.api.config()).body;
    ensure(
      current.version === expected && kmOf(current.config) === backupKm,
      `the manager serves v${current.version} with ${kmOf(current.config)} km, not v${expected} with the backup's ${backupKm} km`,
    );
    const [newest] = (await stack.api.versions(1)).body;
    ensure(
      newest?.version === expected && newest.kind === 'restore' && newest.createdBy === 'system',
      `the newest version is ${JSON.stringify(newest)}, not v${expected} of kind restore by system`,
    );
    const audit = (await stack.api.audit(20)).body;
    const row = audit.find((a) => a.kind === 'restore' && a.versionAfter === expected);
    ensure(
      row !== undefined &&
        row.actor === 'system' &&
        row.versionBefore === backedUp.version &&
        (row.reason ?? '').includes(`v${latest.version}`),
      `no audit row of kind restore v${backedUp.version} → v${expected} naming v${latest.version}: ${JSON.stringify(row ?? audit.slice(0, 3))}`,
    );
    for (const worker of stack.workers) {
      const applied = appliedContent(worker);
      ensure(
        applied.version === expected && applied.km === backupKm,
        `${worker.instanceId} applied v${applied.version} with ${applied.km} km, not v${expected} with ${backupKm} km`,
      );
    }
    await stack.instanceViewsOn(expected, signal, TIMEOUT_MS);
    const regressions = stack.regressions();
    ensure(regressions.length === 0, `a worker went back: ${regressions.join('; ')}`);
    return figure;
  },
};

/** One PATCH that must make a version. */
async function write(api: ManagerApi, change: DistanceChange): Promise<ConfigState> {
  const res = await api.patch(change);
  ensure(res.status === 200, `a PATCH answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

function kmOf(config: Record<string, unknown>): number | undefined {
  return (config.geo as DistanceChange['geo'] | undefined)?.max_distance_km;
}

/** The version and distance of the envelope a worker keeps as last known good (what it runs). */
function appliedContent(worker: WorkerNode): { version?: number; km?: number } {
  const envelope = worker.lastKnownGood();
  if (!envelope) return {};
  const { payload } = JSON.parse(envelope.toString('utf8')) as { payload: string };
  const body = JSON.parse(Buffer.from(payload, 'base64').toString('utf8')) as {
    version?: number;
    config?: Record<string, unknown>;
  };
  return { version: body.version, km: body.config ? kmOf(body.config) : undefined };
}
