import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { RolloutView } from '@app/contracts';
import {
  type InProcessManager,
  startWorkerStack,
  until,
  waitForInstance,
  WorkerProcess,
} from '@app/testing';
import type { Settings } from '../src/settings/settings';
import { CONFIG_MANAGER } from './support/test-app';

const SERVICE = 'dedup-worker';
const BATCHES = resolve(__dirname, '..', '..', '..', 'examples', 'batches');

/** One real dedup-worker process with its own inbox, outbox and last-known-good file. */
interface Worker {
  id: string;
  process: WorkerProcess;
  inbox: string;
  outbox: string;
}

/**
 * The proof: four real dedup-worker processes (two labelled tier=canary) on the SDK's
 * rollout support. A canary step reaches only the canaries; a bake of 2 runs then takes the
 * version to everyone; a second rollout whose canary is killed rolls back by itself, and the
 * other instances never ran its candidate.
 */
describe('rollouts with real dedup-worker processes', () => {
  let manager: InProcessManager<Settings>;
  let dir: string;
  const workers: Worker[] = [];

  const byId = (id: string): Worker => {
    const worker = workers.find((w) => w.id === id);
    if (!worker) throw new Error(`no worker ${id}`);
    return worker;
  };

  /** Drops a batch into a worker's inbox and waits for the run's report. */
  const run = async (worker: Worker, batch: string) => {
    const before = existsSync(worker.outbox) ? readdirSync(worker.outbox).length : 0;
    copyFileSync(join(BATCHES, batch), join(worker.inbox, batch));
    await until(
      `a report of ${worker.id}'s run on ${batch}`,
      () => (existsSync(worker.outbox) && readdirSync(worker.outbox).length > before) || undefined,
      { timeoutMs: 15000 },
    );
  };

  const rolloutWhen = (id: string, check: (r: RolloutView) => boolean, what: string) =>
    until(
      what,
      async () => {
        const { body } = await manager.api.rollout(SERVICE, id).expect(200);
        return check(body) ? body : undefined;
      },
      { timeoutMs: 20000 },
    );

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cm-rollout-workers-'));
    const stack = await startWorkerStack(CONFIG_MANAGER, { ROLLOUT_TICK_MS: '50' });
    manager = stack.manager;
    for (const [id, tier] of [
      ['w-canary-1', 'canary'],
      ['w-canary-2', 'canary'],
      ['w-main-1', 'main'],
      ['w-main-2', 'main'],
    ]) {
      const home = join(dir, id);
      const inbox = join(home, 'inbox');
      const outbox = join(home, 'outbox');
      mkdirSync(inbox, { recursive: true });
      const process = WorkerProcess.start({
        ...stack.workerEnv(home, id),
        INPUT_DIR: inbox,
        OUTPUT_DIR: outbox,
        RUN_DEBOUNCE_MS: '50',
        INSTANCE_LABELS: `tier=${tier},region=eu`,
      });
      workers.push({ id, process, inbox, outbox });
    }
    for (const { id } of workers) {
      await waitForInstance(manager, (i) => i.status === 'online' && i.appliedVersion === 1, {
        instanceId: id,
        timeoutMs: 30000,
      });
    }
  }, 60000);

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.process.kill('SIGTERM')));
    await manager?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('deploys to the canaries only, bakes 2 runs on each, then completes for everyone', async () => {
    const staged = await manager.api
      .patchConfig(SERVICE, { thresholds: { high: 0.8 } }, { publish: 'staged' })
      .expect(200);
    expect(staged.body.version).toBe(2);
    const rollout = (
      await manager.api
        .createRollout(SERVICE, {
          version: 2,
          strategy: {
            steps: [
              { cohort: { selector: { tier: 'canary' } }, bake: { runs: 2 } },
              { cohort: { all: true } },
            ],
            ackTimeoutSeconds: 30,
          },
        })
        .expect(201)
    ).body;

    for (const id of ['w-canary-1', 'w-canary-2']) {
      await waitForInstance(manager, (i) => i.appliedVersion === 2, { instanceId: id });
      await byId(id).process.waitForLine(
        new RegExp(`Accepted dedup-worker candidate version 2 of rollout ${rollout.id}`),
      );
    }
    await rolloutWhen(rollout.id, (r) => r.state === 'baking', 'baking on the canaries');
    // The others stay on the stable version while the canaries bake.
    const during = (await manager.api.instances(SERVICE).expect(200)).body;
    expect(during.filter((i) => i.labels.tier === 'main').map((i) => i.appliedVersion)).toEqual([
      1, 1,
    ]);

    for (const id of ['w-canary-1', 'w-canary-2']) {
      await run(byId(id), 'tickets.json');
      await run(byId(id), 'social.json');
    }
    const done = await rolloutWhen(rollout.id, (r) => r.state === 'complete', 'complete');
    expect(done.trigger).toBe('complete');
    for (const { id } of workers) {
      await waitForInstance(manager, (i) => i.appliedVersion === 2, { instanceId: id });
    }
    for (const id of ['w-main-1', 'w-main-2']) {
      // From the stable topic, as a plain config version, never as the candidate.
      await byId(id).process.waitForLine(/Accepted dedup-worker config version 2;/);
      expect(byId(id).process.lines.join('\n')).not.toMatch(/candidate version 2/);
    }
    expect((await manager.api.config(SERVICE).expect(200)).body.version).toBe(2);
  }, 90000);

  it('rolls back by itself when a canary is killed mid-rollout; the others never run the candidate', async () => {
    const staged = await manager.api
      .patchConfig(SERVICE, { thresholds: { high: 0.85 } }, { publish: 'staged' })
      .expect(200);
    expect(staged.body.version).toBe(3);
    const rollout = (
      await manager.api
        .createRollout(SERVICE, {
          version: 3,
          strategy: {
            steps: [
              { cohort: { selector: { tier: 'canary' } }, bake: { runs: 1 } },
              { cohort: { all: true } },
            ],
            ackTimeoutSeconds: 3,
          },
        })
        .expect(201)
    ).body;
    for (const id of ['w-canary-1', 'w-canary-2']) {
      await waitForInstance(manager, (i) => i.appliedVersion === 3, { instanceId: id });
    }
    // The others keep running, on the stable version.
    for (const id of ['w-main-1', 'w-main-2']) await run(byId(id), 'cityguide.json');

    await byId('w-canary-2').process.kill('SIGKILL'); // its last will: offline
    const ended = await rolloutWhen(rollout.id, (r) => r.state === 'rolled_back', 'rolled back');
    expect(ended).toMatchObject({ trigger: 'ack-timeout', rollbackVersion: 4 });
    expect(ended.instances.find((i) => i.instanceId === 'w-canary-2')?.state).toBe('timed_out');

    const current = await manager.api.config(SERVICE).expect(200);
    expect(current.body).toMatchObject({ version: 4, config: { thresholds: { high: 0.8 } } });
    for (const id of ['w-canary-1', 'w-main-1', 'w-main-2']) {
      await waitForInstance(manager, (i) => i.appliedVersion === 4, { instanceId: id });
    }
    const view = (await manager.api.instances(SERVICE).expect(200)).body;
    for (const id of ['w-main-1', 'w-main-2']) {
      const instance = view.find((i) => i.instanceId === id);
      expect(instance?.lastRunVersion).toBe(2);
      expect(instance?.runs).toMatchObject({ version: 2, completed: 1, failed: 0 });
      expect(byId(id).process.lines.join('\n')).not.toMatch(/version 3/);
    }
  }, 90000);
});
