import { until } from '@app/testing';
import type { BusObserver, HealthEvent } from '../lib/bus-observer';
import { dropBatch, reportFor } from '../lib/batches';
import { distanceChange } from '../lib/changes';
import { ensure } from '../lib/ensure';
import { SERVICE, type Stack } from '../lib/stack';
import type { WorkerNode } from '../lib/worker';
import type { Scenario } from './scenario';

/** The manager re-signs and republishes the current version this often (CONFIG_HEARTBEAT_SECONDS). */
const HEARTBEAT_SECONDS = 1;
/** A worker is stale when nothing attested its config for longer (CONFIG_MAX_STALENESS). */
const MAX_STALENESS_SECONDS = 4;
/** What a process, a poll and the bus add on top of the protocol's own bounds. */
const SLACK_MS = 2000;
/** Stale within CONFIG_MAX_STALENESS after the last attestation, which is at most 2 heartbeats old. */
const STALE_TIMEOUT_MS = (MAX_STALENESS_SECONDS + 2 * HEARTBEAT_SECONDS) * 1000 + SLACK_MS;
/** The bridge retries every 1 to 2 s, then the next heartbeat (or the resync) attests. */
const BRIDGE_RETRY_MS = 2000;
const FRESH_TIMEOUT_MS = BRIDGE_RETRY_MS + 2 * HEARTBEAT_SECONDS * 1000 + SLACK_MS;
/** A write reaches the workers of broker 1 within this. */
const APPLY_TIMEOUT_MS = 10_000;
const BATCH_EVENTS = 200;
const BATCH_TIMEOUT_MS = 30_000;

/**
 * 12. A broker that keeps its clients connected but withholds the manager's messages (a
 * freeze, docs/recovery.md "Freshness"). Scenario 11's bridged stack without manager B: manager
 * A on broker 1 is the only writer, broker 2's two workers get everything through the bridge.
 * Cutting the link is the freeze: broker 2 stays up, keeps its clients and its (old) retained
 * envelope, and gets no heartbeat. Proves: every worker starts fresh; after the cut a write via
 * A reaches broker 1's workers and not broker 2's (proof of the freeze); broker 2's workers
 * turn `stale: true` on their live health and `config_client_stale 1`, log it once, and still
 * run a batch on their version, while broker 1's stay fresh throughout (detection is per
 * broker, not a clock problem); once the link is restored broker 2's workers apply the latest
 * version and are fresh again (logged once), manager A's instance view shows every worker
 * online on it with `config_instances_stale 0`, and no worker regressed.
 */
export const staleBroker: Scenario = {
  id: 12,
  title: 'stale broker (frozen bridge)',
  broker: 'acl',
  bridged: true,
  replicaManager: false,
  managerEnv: { CONFIG_HEARTBEAT_SECONDS: String(HEARTBEAT_SECONDS) },
  workerEnv: { CONFIG_MAX_STALENESS: String(MAX_STALENESS_SECONDS) },
  runTimeoutMs: 90_000,
  figure: { label: 'link restored → broker 2 fresh on the latest version', unit: 'ms' },
  async run({ stack, signal, log }) {
    const replica = stack.replica;
    ensure(replica !== undefined, 'the stack has no second broker');
    const frozen = replica.workers;
    const control = stack.workers.filter((w) => !frozen.includes(w));
    const observerOf = (w: WorkerNode): BusObserver =>
      frozen.includes(w) ? replica.observer : stack.observer;

    // (1) Every worker fresh, by its own metrics and its last live health report.
    await until(
      'every worker fresh',
      async () => {
        const views = await Promise.all(stack.workers.map((w) => w.view()));
        return (
          views.every(
            (v, i) =>
              !v.stale &&
              lastHealth(observerOf(stack.workers[i]), stack.workers[i])?.stale !== true,
          ) || undefined
        );
      },
      { signal, timeoutMs: STALE_TIMEOUT_MS },
    );
    const before = (await stack.api.config()).body.version;

    // (2) The freeze: the link is cut, a write via A reaches broker 1 only.
    await replica.link.cut();
    const cutAt = Date.now();
    const staleLogged = new Map(frozen.map((w) => [w, staleLines(w, cutAt)]));
    const res = await stack.api.patch(distanceChange(), { reason: 'chaos stale broker' });
    ensure(res.status === 200, `a write via A answered ${res.status}: ${JSON.stringify(res.body)}`);
    const latest = res.body.version;
    await onVersion(control, latest, signal);
    for (const w of frozen) {
      const { appliedVersion } = await w.view();
      ensure(
        appliedVersion === before,
        `${w.instanceId} on broker 2 is on v${appliedVersion}, not v${before}, while the link is cut: no freeze`,
      );
    }

    // (3) Broker 2's workers turn stale (own metrics and live health on broker 2).
    await until(
      "broker 2's workers stale",
      async () => {
        const views = await Promise.all(frozen.map((w) => w.view()));
        return (
          views.every(
            (v, i) => v.stale && lastHealth(replica.observer, frozen[i], cutAt)?.stale === true,
          ) || undefined
        );
      },
      { signal, timeoutMs: STALE_TIMEOUT_MS },
    );
    const staleMs = Date.now() - cutAt;
    await Promise.all(
      frozen.map(async (w) => {
        const file = await dropBatch(w.inbox, BATCH_EVENTS);
        const report = await reportFor(w.outbox, file, { signal, timeoutMs: BATCH_TIMEOUT_MS });
        ensure(
          report.configVersion === before,
          `stale ${w.instanceId} ran on v${report.configVersion}, not v${before}`,
        );
        const view = await w.view();
        ensure(
          view.stale && view.appliedVersion === before,
          `${w.instanceId} after its batch: stale ${view.stale}, v${view.appliedVersion} (expected stale on v${before})`,
        );
        await loggedOnce(
          w,
          'stale',
          () => staleLines(w, cutAt) - (staleLogged.get(w) ?? 0),
          signal,
        );
      }),
    );
    await controlFresh(control, stack, cutAt);

    // Recovery: the link is restored, the bridge resyncs, the heartbeat attests.
    await replica.link.restore();
    const restoredAt = Date.now();
    let seen = '';
    await until(
      "broker 2's workers fresh on the latest version",
      async () => {
        const views = await Promise.all(frozen.map((w) => w.view()));
        seen = views
          .map((v, i) => `${frozen[i].instanceId}=v${v.appliedVersion}/stale ${v.stale}`)
          .join(' ');
        return (
          views.every((v, i) => {
            const health = lastHealth(replica.observer, frozen[i], restoredAt);
            return (
              !v.stale &&
              v.appliedVersion === latest &&
              health?.stale === false &&
              health.appliedVersion === latest
            );
          }) || undefined
        );
      },
      { signal, timeoutMs: FRESH_TIMEOUT_MS, intervalMs: 20, describe: () => seen },
    );
    const freshMs = Date.now() - restoredAt;
    for (const w of frozen) {
      const fresh = () => w.freshnessLog().filter((e) => !e.stale && e.at >= restoredAt).length;
      await loggedOnce(w, 'fresh again', fresh, signal);
    }
    await controlFresh(control, stack, cutAt);
    await stack.fleetOn(latest, { signal, timeoutMs: APPLY_TIMEOUT_MS });
    await stack.instanceViewsOn(latest, signal, FRESH_TIMEOUT_MS);
    let staleGauge = '';
    await until(
      "manager A's instance view: no stale instance",
      async () => {
        staleGauge = staleInstances(await stack.api.metrics());
        return staleGauge === '0' || undefined;
      },
      {
        signal,
        timeoutMs: FRESH_TIMEOUT_MS,
        describe: () => `config_instances_stale ${staleGauge}`,
      },
    );
    const regressions = stack.regressions();
    ensure(regressions.length === 0, `a worker went back: ${regressions.join('; ')}`);
    log(
      `v${before} frozen on broker 2, v${latest} written during the cut; cut → broker 2 stale in ${staleMs} ms ` +
        `(CONFIG_MAX_STALENESS ${MAX_STALENESS_SECONDS} s, heartbeat ${HEARTBEAT_SECONDS} s); ` +
        `restore → fresh on v${latest} in ${freshMs} ms`,
    );
    return freshMs;
  },
};

/** The newest live health report of `worker` on `observer` (received at or after `since`). */
function lastHealth(observer: BusObserver, worker: WorkerNode, since = 0): HealthEvent | undefined {
  return observer.health
    .filter(
      (e) => e.instanceId === worker.instanceId && e.status !== 'offline' && e.receivedAt >= since,
    )
    .at(-1);
}

/** How many times the worker logged that it turned stale, up to now (`since` only counts later). */
function staleLines(worker: WorkerNode, since: number): number {
  return worker.freshnessLog().filter((e) => e.stale && e.at >= since).length;
}

/**
 * Waits for the worker's log line (its output is read through a pipe, so it may come a little
 * after its metrics say so) and checks it was written exactly once.
 */
async function loggedOnce(
  worker: WorkerNode,
  what: string,
  count: () => number,
  signal: AbortSignal,
): Promise<void> {
  await until(`${worker.instanceId} logs "${what}"`, () => count() > 0 || undefined, {
    signal,
    timeoutMs: SLACK_MS,
    intervalMs: 20,
  });
  ensure(count() === 1, `${worker.instanceId} logged "${what}" ${count()} times, not once`);
}

/** Waits until every worker of `workers` applied `version` (its own metrics). */
async function onVersion(
  workers: readonly WorkerNode[],
  version: number,
  signal: AbortSignal,
): Promise<void> {
  await until(
    `broker 1's workers on v${version}`,
    async () => {
      const views = await Promise.all(workers.map((w) => w.view()));
      return views.every((v) => v.appliedVersion === version) || undefined;
    },
    { signal, timeoutMs: APPLY_TIMEOUT_MS, intervalMs: 20 },
  );
}

/** Broker 1's workers are fresh now and never said otherwise since `since` (log and bus). */
async function controlFresh(
  control: readonly WorkerNode[],
  stack: Stack,
  since: number,
): Promise<void> {
  for (const w of control) {
    const view = await w.view();
    ensure(!view.stale, `${w.instanceId} on broker 1 is stale: detection is not per broker`);
    ensure(
      w.freshnessLog().every((e) => !e.stale || e.at < since),
      `${w.instanceId} on broker 1 logged itself stale`,
    );
    const staleReport = stack.observer.health.find(
      (e) => e.instanceId === w.instanceId && e.receivedAt >= since && e.stale === true,
    );
    ensure(staleReport === undefined, `${w.instanceId} on broker 1 reported stale on the bus`);
  }
}

/** The value of `config_instances_stale{service="dedup-worker"}` in manager metrics ('' if absent). */
function staleInstances(metrics: string): string {
  const line = metrics
    .split('\n')
    .find((l) => l.startsWith('config_instances_stale{') && l.includes(`service="${SERVICE}"`));
  return line?.split(' ').at(-1) ?? '';
}
