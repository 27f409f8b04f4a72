import { randomInt } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { readEnvelope, until } from '@app/testing';
import type { ManagerApi } from '../lib/api';
import { distanceChange } from '../lib/changes';
import { ensure } from '../lib/ensure';
import { PatchWriter } from '../lib/patch-writer';
import { type ReplicaSite, SERVICE, type Stack } from '../lib/stack';
import type { Scenario } from './scenario';

/** Writes that alternate between the two managers, before the kill and after the restart. */
const ALTERNATING_WRITES = 6;
/** Writes on manager B alone while A is dead and the bridge still up. */
const WRITES_AFTER_KILL = 2;
/** The partition lasts 1 to this many writes on B, a different length each run. */
const MAX_WRITES_WHILE_CUT = 6;
const TIMEOUT_MS = 30_000;

/** One accepted write: which manager took it and the version it answered. */
interface Write {
  via: 'A' | 'B';
  version: number;
  maxDistanceKm: number;
}

/**
 * 11. Two config-manager replicas on one Postgres, manager A on broker 1 and manager B on
 * broker 2, the brokers bridged (system/# both ways, configured on broker 1 only), two workers
 * on each broker. Writes alternate between A and B; A is SIGKILLed and B keeps writing; the
 * network between the brokers is cut while B writes (so broker 1's workers fall behind) and
 * restored; A is started again and the writes alternate once more. Proves: every write is
 * accepted with a version of its own, and config_versions holds exactly 1..current, each once;
 * every worker ends on the latest version with the latest content (its last-known-good
 * envelope), and both brokers retain the latest envelope; no worker ever applied a version not
 * above its previous one (logs over all lives, live health on both brokers).
 */
export const bridgedReplicas: Scenario = {
  id: 11,
  title: 'two replicas on two bridged brokers',
  broker: 'acl',
  bridged: true,
  runTimeoutMs: 180_000,
  figure: { label: 'bridge restored → every worker on the latest version', unit: 'ms' },
  async run({ stack, signal, log }) {
    const replica = stack.replica;
    ensure(replica !== undefined, 'the stack has no second manager and broker');
    const apiB = replica.api;
    ensure(apiB !== undefined, 'the stack has no second manager');
    const apis = { A: stack.api, B: apiB };
    const writes: Write[] = [];
    const write = async (via: 'A' | 'B') => {
      const change = distanceChange();
      const res = await apis[via].patch(change, { reason: `chaos ${via}` });
      ensure(
        res.status === 200,
        `a write via ${via} answered ${res.status}: ${JSON.stringify(res.body)}`,
      );
      writes.push({ via, version: res.body.version, maxDistanceKm: change.geo.max_distance_km });
    };
    const fleetOnLatest = () => stack.fleetOn(latest(writes), { signal, timeoutMs: TIMEOUT_MS });
    const staleBefore = await staleCount(stack);
    const replaysBefore = [stack.observer.replays().length, replica.observer.replays().length];
    const broker1Workers = stack.workers.filter((w) => !replica.workers.includes(w));

    for (let i = 0; i < ALTERNATING_WRITES; i++) await write(i % 2 === 0 ? 'A' : 'B');
    await fleetOnLatest();

    await stack.manager.kill('SIGKILL');
    for (let i = 0; i < WRITES_AFTER_KILL; i++) await write('B');
    await fleetOnLatest();

    // The partition, while B keeps writing: broker 1 and its workers stay behind.
    const writer = new PatchWriter(apiB);
    try {
      await writer.waitForAccepted(1, signal);
      await replica.link.cut();
      const cutAt = writer.accepted.length;
      await writer.waitForAccepted(cutAt + randomInt(1, MAX_WRITES_WHILE_CUT + 1), signal);
      await writer.stop();
    } finally {
      await writer.stop();
    }
    ensure(writer.refused.length === 0, `writes on B refused: ${writer.refused.join('; ')}`);
    for (const w of writer.accepted)
      writes.push({ via: 'B', version: w.version, maxDistanceKm: NaN });
    const behind = await Promise.all(broker1Workers.map((w) => w.view()));
    ensure(
      behind.every((v) => v.appliedVersion < latest(writes)),
      `broker 1's workers got v${latest(writes)} while the bridge was cut: the partition did not happen`,
    );
    await replica.link.restore();
    const restored = Date.now();
    await fleetOnLatest();
    const converged = Date.now() - restored;
    await bothRetain(stack, replica, latest(writes), signal);

    await stack.manager.start();
    await until(
      'manager A ready',
      async () => (await stack.api.ready()).status === 200 || undefined,
      {
        signal,
        timeoutMs: TIMEOUT_MS,
      },
    );
    const served = (await stack.api.config()).body.version;
    ensure(
      served === latest(writes),
      `restarted manager A serves v${served}, not v${latest(writes)}`,
    );
    for (let i = 0; i < ALTERNATING_WRITES; i++) await write(i % 2 === 0 ? 'A' : 'B');
    await fleetOnLatest();

    // A second partition with both managers up: each side gets only its own manager's writes.
    await replica.link.cut();
    for (let i = 0; i < ALTERNATING_WRITES; i++) await write(i % 2 === 0 ? 'A' : 'B');
    await replica.link.restore();
    const healing = Date.now();
    await fleetOnLatest();
    const healed = Date.now() - healing;

    const final = latest(writes);
    await checkVersions(stack, writes);
    await bothRetain(stack, replica, final, signal);
    await sameContent(stack, writes, signal);
    for (const [name, api] of Object.entries(apis)) {
      const { version } = (await api.config()).body;
      ensure(version === final, `manager ${name} serves v${version}, not v${final}`);
    }
    await stack.instanceViewsOn(final, signal, TIMEOUT_MS);
    const regressions = stack.regressions();
    ensure(regressions.length === 0, `a worker went back: ${regressions.join('; ')}`);
    log(
      `${writes.length} writes (${writer.accepted.length - 1} on B during the first cut), v${final}; ` +
        `second cut (both managers writing) healed in ${healed} ms; ` +
        `health reports replayed by the bridge: ${stack.observer.replays().length - replaysBefore[0]} on broker 1, ` +
        `${replica.observer.replays().length - replaysBefore[1]} on broker 2; stale configs refused by the workers: ` +
        `${(await staleCount(stack)) - staleBefore}; manager incidents since start: A ${await incidents(stack.api)}, ` +
        `B ${await incidents(apiB)}`,
    );
    return converged;
  },
};

function latest(writes: readonly Write[]): number {
  return Math.max(...writes.map((w) => w.version));
}

/** Every answer a version of its own, and config_versions exactly 1..current, each once. */
async function checkVersions(stack: Stack, writes: readonly Write[]): Promise<void> {
  const answered = writes.map((w) => w.version);
  const twice = answered.filter((v, i) => answered.indexOf(v) !== i);
  ensure(twice.length === 0, `versions answered twice: ${twice.join(', ')}`);
  const stored = await stack.postgres.versions(SERVICE);
  const { currentVersion } = await stack.postgres.outbox(SERVICE);
  const expected = Array.from({ length: currentVersion }, (_, i) => i + 1);
  ensure(
    isDeepStrictEqual(stored, expected),
    `config_versions holds ${summarise(stored)}, not exactly 1..${currentVersion}`,
  );
  const missing = answered.filter((v) => !stored.includes(v));
  ensure(missing.length === 0, `answered versions not in config_versions: ${missing.join(', ')}`);
}

/** Waits until both brokers retain an envelope of `version` and checks they hold the same payload. */
async function bothRetain(
  stack: Stack,
  replica: ReplicaSite,
  version: number,
  signal: AbortSignal,
): Promise<void> {
  const retained = await Promise.all(
    [stack.observer, replica.observer].map((observer, i) =>
      until(
        `broker ${i + 1} retains v${version}`,
        async () => {
          const bytes = await observer.retainedConfig();
          return bytes && readEnvelope(bytes).payload.version === version ? bytes : undefined;
        },
        { signal, timeoutMs: TIMEOUT_MS, intervalMs: 100 },
      ),
    ),
  );
  const [one, two] = retained.map((bytes) => readEnvelope(bytes).payload.config);
  ensure(isDeepStrictEqual(one, two), `the brokers retain different configs for v${version}`);
}

/**
 * Every worker's last-known-good envelope is the latest version, with the config both brokers
 * retain, and the latest write's value (when the harness knows it: not the writer's).
 */
async function sameContent(
  stack: Stack,
  writes: readonly Write[],
  signal: AbortSignal,
): Promise<void> {
  const last = writes.at(-1);
  ensure(last !== undefined, 'no writes');
  const retained = await stack.observer.retainedConfig();
  ensure(retained !== undefined, 'broker 1 retains no config');
  const expected = readEnvelope(retained).payload.config;
  const geo = (expected as { geo?: { max_distance_km?: unknown } }).geo;
  ensure(
    geo?.max_distance_km === last.maxDistanceKm,
    `the retained config has max_distance_km ${String(geo?.max_distance_km)}, not the last write's ${last.maxDistanceKm}`,
  );
  for (const worker of stack.workers) {
    const config = await until(
      `${worker.instanceId}'s last-known-good file holds v${last.version}`,
      () => {
        const bytes = worker.lastKnownGood();
        const payload = bytes && readEnvelope(bytes).payload;
        return payload?.version === last.version ? payload.config : undefined;
      },
      { signal, timeoutMs: TIMEOUT_MS },
    );
    ensure(
      isDeepStrictEqual(config, expected),
      `${worker.instanceId} holds another config for v${last.version} than the brokers retain`,
    );
  }
}

/** Stale configs (older than the applied one) refused by all workers so far. */
async function staleCount(stack: Stack): Promise<number> {
  const views = await Promise.all(stack.workers.map((w) => w.view()));
  return views.reduce((sum, view) => sum + (view.rejected.stale ?? 0), 0);
}

/** The manager's incidents on the config topic since it started, by problem (its /metrics). */
async function incidents(api: ManagerApi): Promise<string> {
  const text = await api.metrics();
  const found = [
    ...text.matchAll(/^config_retained_incidents_total\{[^}]*problem="([^"]+)"[^}]*\} (\d+)$/gm),
  ]
    .filter((m) => m[0].includes(`service="${SERVICE}"`) && m[2] !== '0')
    .map((m) => `${m[1]} ${m[2]}`);
  return found.length > 0 ? found.join(', ') : 'none';
}

function summarise(versions: readonly number[]): string {
  return versions.length > 20
    ? `${versions.length} rows (${versions.slice(0, 5).join(',')}…${versions.slice(-5).join(',')})`
    : `[${versions.join(',')}]`;
}
