import type { RolloutView } from '@app/contracts';
import { pause, until } from '@app/testing';
import { dropBatch, reportFor } from '../lib/batches';
import { distanceChange } from '../lib/changes';
import { ensure } from '../lib/ensure';
import type { WorkerNode } from '../lib/worker';
import type { Scenario } from './scenario';

const CANARY = 'tier=canary';
/** Completed runs on the candidate each canary must report before the rollout moves on. */
const BAKE_RUNS = 2;
/** Events per batch: a run that takes a moment, not a long one. */
const BATCH_EVENTS = 100;
const STEP_TIMEOUT_MS = 30_000;
const REPORT_TIMEOUT_MS = 30_000;
/** How often the fleet's own views are sampled while the run lasts. */
const SAMPLE_INTERVAL_MS = 50;

/**
 * 10. config-manager SIGKILLed in the middle of a rollout. A staged version is rolled out to the
 * canaries (two of the three workers say `tier=canary`) with a bake of two runs, then to all.
 * The manager dies while the canaries bake (one run done each); the canaries finish their
 * second run while it is away. Started again, it must resume the same rollout at the same step
 * (not start it over, not roll it back) and complete it: every worker ends on the candidate,
 * none ever ran a third version or went back, and the non-canaries got the candidate only from
 * the stable topic at completion.
 */
export const rolloutManagerCrash: Scenario = {
  id: 10,
  title: 'manager SIGKILLed mid-rollout',
  broker: 'acl',
  workerLabels: [`${CANARY},region=eu`, `${CANARY},region=eu`, 'tier=main,region=eu'],
  runTimeoutMs: 120_000,
  figure: { label: 'manager restart → rollout complete', unit: 'ms' },
  async run({ stack, signal, log }) {
    const canaries = stack.workers.filter((w) => w.labels?.startsWith(CANARY));
    const others = stack.workers.filter((w) => !canaries.includes(w));
    ensure(
      canaries.length === 2 && others.length === 1,
      'the stack has not two canaries and one other',
    );
    const stable = (await stack.api.config()).body.version;
    const runStart = Date.now();
    const historyBefore = new Map(stack.workers.map((w) => [w.instanceId, w.history().length]));
    const candidatesBefore = stack.observer.candidates.length;

    const staged = await stack.api.stage(distanceChange());
    ensure(staged.status === 200, `the staged PATCH answered ${staged.status}`);
    const candidate = Number(staged.headers.get('X-Staged-Version'));
    ensure(
      candidate > stable && staged.body.version === candidate,
      `the staged write is v${staged.body.version} (X-Staged-Version ${candidate}), not above the stable v${stable}`,
    );
    const samples = sampleFleet(stack.workers, signal);
    try {
      const created = await stack.api.createRollout({
        version: candidate,
        strategy: {
          steps: [
            { cohort: { selector: { tier: 'canary' } }, bake: { runs: BAKE_RUNS } },
            { cohort: { all: true } },
          ],
          ackTimeoutSeconds: 60,
        },
      });
      ensure(created.status === 201, `POST …/rollouts answered ${created.status}`);
      const id = created.body.id;
      const rolloutWhen = (what: string, check: (r: RolloutView) => boolean, intervalMs = 50) =>
        until(
          `rollout ${id} ${what}`,
          async () => {
            const { status, body } = await stack.api.rollout(id);
            return status === 200 && check(body) ? body : undefined;
          },
          { signal, timeoutMs: STEP_TIMEOUT_MS, intervalMs },
        );

      for (const canary of canaries) {
        await until(
          `${canary.instanceId} on the candidate v${candidate}`,
          async () => (await canary.view()).appliedVersion === candidate || undefined,
          { signal, timeoutMs: STEP_TIMEOUT_MS, intervalMs: 20 },
        );
      }
      await rolloutWhen('baking step 1', (r) => r.state === 'baking' && r.step === 1);
      // One bake run on each canary; the other runs on the stable version meanwhile.
      await runBatch(canaries, candidate, signal);
      await runBatch(others, stable, signal);
      const before = (await stack.api.rollout(id)).body;
      ensure(
        before.state === 'baking' && before.step === 1,
        `after one run per canary the rollout is ${before.state} at step ${before.step}, not baking step 1`,
      );

      await stack.manager.kill('SIGKILL');
      log(`manager SIGKILLed while rollout ${id} bakes v${candidate} on the canaries`);
      // The second bake run happens while the manager is away; its health waits on the broker.
      await runBatch(canaries, candidate, signal);
      for (const canary of canaries) {
        await until(
          `${canary.instanceId} reporting ${BAKE_RUNS} runs on v${candidate} on the bus`,
          () =>
            stack.observer.health.some(
              (h) =>
                h.instanceId === canary.instanceId &&
                h.runs?.version === candidate &&
                h.runs.completed >= BAKE_RUNS,
            ) || undefined,
          { signal, timeoutMs: REPORT_TIMEOUT_MS, intervalMs: 20 },
        );
      }
      for (const other of others) {
        const view = await other.view();
        ensure(
          view.appliedVersion === stable,
          `${other.instanceId} is on v${view.appliedVersion} while the manager is down, not the stable v${stable}`,
        );
      }

      const restarted = Date.now();
      await stack.manager.start();
      const booted = Date.now() - restarted;
      const done = await rolloutWhen(
        'complete after the restart',
        (r) => !['pending', 'deploying', 'baking'].includes(r.state),
        20,
      );
      const recovered = Date.now() - restarted;
      ensure(
        done.state === 'complete' && done.trigger === 'complete' && done.rollbackVersion === null,
        `after the restart the rollout ended ${done.state} (trigger ${done.trigger}, rollback v${done.rollbackVersion}), not complete`,
      );
      const resumed = stack.manager
        .output()
        .some((line) =>
          line.includes(`Resuming 1 active rollout(s): dedup-worker ${id} (baking, step 1)`),
        );
      ensure(resumed, `the restarted manager did not log resuming ${id} in baking step 1`);
      ensure(
        done.steps[0].startedAt === before.steps[0].startedAt,
        `step 1 started again after the restart (${before.steps[0].startedAt} → ${done.steps[0].startedAt})`,
      );
      const canaryIds = canaries.map((w) => w.instanceId).sort();
      ensure(
        sameIds(done.steps[0].instances, canaryIds),
        `step 1 targeted ${done.steps[0].instances.join(', ')}, not the canaries ${canaryIds.join(', ')}`,
      );
      const candidates = stack.observer.candidates.slice(candidatesBefore);
      const strays = candidates.filter(
        (c) => !c.cleared && (c.version !== candidate || !sameIds(c.instances, canaryIds)),
      );
      ensure(
        strays.length === 0,
        `a candidate on the bus was not v${candidate} for the canaries: ${JSON.stringify(strays)}`,
      );

      await stack.fleetOn(candidate, { signal, timeoutMs: STEP_TIMEOUT_MS });
      const current = (await stack.api.config()).body.version;
      ensure(
        current === candidate,
        `the manager serves v${current}, not the completed v${candidate}`,
      );
      await until(
        `the candidate topic cleared after rollout ${id}`,
        () => stack.observer.candidates.slice(candidatesBefore).at(-1)?.cleared || undefined,
        { signal, timeoutMs: STEP_TIMEOUT_MS, intervalMs: 20 },
      );

      const seen = await samples.stop();
      const foreign = [
        ...seen.filter((s) => s.version !== stable && s.version !== candidate),
        ...stack.observer.health
          .filter((h) => h.receivedAt >= runStart && h.status !== 'offline')
          .map((h) => ({ instanceId: h.instanceId, version: h.appliedVersion }))
          .filter((h) => h.version !== stable && h.version !== candidate),
      ];
      ensure(
        foreign.length === 0,
        `a worker was on neither v${stable} nor v${candidate}: ${JSON.stringify(foreign.slice(0, 5))}`,
      );
      for (const worker of stack.workers) {
        const applied = worker.history().slice(historyBefore.get(worker.instanceId));
        const expected = canaries.includes(worker)
          ? [{ version: candidate, source: 'candidate' }]
          : [{ version: candidate, source: 'broker' }];
        ensure(
          JSON.stringify(applied) === JSON.stringify(expected),
          `${worker.instanceId} applied ${JSON.stringify(applied)} in this run, not ${JSON.stringify(expected)}`,
        );
      }
      const { body: view } = await stack.api.instances();
      for (const worker of stack.workers) {
        const instance = view.find((i) => i.instanceId === worker.instanceId);
        ensure(
          instance?.status === 'online' && instance.appliedVersion === candidate,
          `the instance view has ${worker.instanceId} ${instance?.status} on v${instance?.appliedVersion}, not online on v${candidate}`,
        );
      }
      const regressions = stack.regressions();
      ensure(regressions.length === 0, `a worker went back: ${regressions.join('; ')}`);
      log(
        `rollout ${id} complete ${recovered} ms after the restart (the manager answered /health after ${booted} ms; ${seen.length} fleet samples)`,
      );
      return recovered;
    } finally {
      // Stops the sampling whatever happened (a failed run's stack is thrown away).
      await samples.stop();
    }
  },
};

/** Each worker runs one batch, and its report must name `version`. */
async function runBatch(
  workers: readonly WorkerNode[],
  version: number,
  signal: AbortSignal,
): Promise<void> {
  await Promise.all(
    workers.map(async (worker) => {
      const file = await dropBatch(worker.inbox, BATCH_EVENTS);
      const report = await reportFor(worker.outbox, file, {
        signal,
        timeoutMs: REPORT_TIMEOUT_MS,
      });
      ensure(
        report.configVersion === version,
        `${worker.instanceId}'s run on ${file} used v${report.configVersion}, not v${version}`,
      );
    }),
  );
}

interface Sample {
  instanceId: string;
  version: number;
}

/**
 * Samples every worker's own applied version until stopped, so a version other than the two of
 * the rollout is caught even if it lasted only a moment between two health reports.
 */
function sampleFleet(
  workers: readonly WorkerNode[],
  signal: AbortSignal,
): { stop(): Promise<Sample[]> } {
  const samples: Sample[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped && !signal.aborted) {
      await Promise.all(
        workers.map(async (worker) => {
          try {
            samples.push({
              instanceId: worker.instanceId,
              version: (await worker.view()).appliedVersion,
            });
          } catch {
            // A slow answer is no sample; the workers are not restarted in this scenario.
          }
        }),
      );
      await pause(SAMPLE_INTERVAL_MS).catch(() => undefined);
    }
  })();
  return {
    /** Stops sampling (again: a no-op) and returns every sample taken. */
    async stop() {
      stopped = true;
      await loop;
      return samples;
    },
  };
}

function sameIds(ids: readonly string[], expected: readonly string[]): boolean {
  return JSON.stringify([...ids].sort()) === JSON.stringify([...expected].sort());
}
