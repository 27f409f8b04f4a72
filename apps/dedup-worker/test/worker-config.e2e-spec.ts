import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type InProcessManager,
  MqttProbe,
  readEnvelope,
  startAedes,
  startWorkerStack,
  waitForInstance,
  WorkerProcess,
} from '@app/testing';
import { CONFIG_MANAGER } from './support/config-manager';

const SERVICE = 'dedup-worker';
const API_KEY = 'sk-worker-e2e-4f1a-never-in-clear';

/** The version held by a last-known-good file (it is written after the apply is announced). */
async function lkgVersion(path: string, expected: number, timeoutMs = 5000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const file = readFileSync(path, 'utf8');
      const envelope = Buffer.from(JSON.parse(file).envelope as string, 'base64');
      if (readEnvelope(envelope).payload.version === expected) return file;
    } catch {
      // not written yet
    }
    if (Date.now() > deadline) throw new Error(`${path} never held version ${expected}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('dedup-worker on the config SDK, end to end', () => {
  let manager: InProcessManager;
  let workDir: string;
  let workerEnv: Record<string, string>;
  let capturedV2: Buffer;

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'dw-e2e-'));
    const stack = await startWorkerStack(CONFIG_MANAGER);
    manager = stack.manager;
    workerEnv = {
      ...stack.workerEnv(workDir, 'w-e2e'),
      LKG_PATH: join(workDir, 'dedup-worker.lkg.json'),
      INITIAL_CONFIG_TIMEOUT_MS: '1000',
    };
  }, 30000);

  afterAll(async () => {
    await manager?.close();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('applies each version, shows it in the instance view within a second, and goes offline when killed', async () => {
    const probe = await MqttProbe.connect(workerEnv.MQTT_URL, ['system/config/#']);
    const worker = WorkerProcess.start(workerEnv);
    try {
      await waitForInstance(manager, (i) => i.status === 'online' && i.appliedVersion === 1, {
        instanceId: 'w-e2e',
        timeoutMs: 20000,
      });

      await manager.api.patchConfig(SERVICE, { thresholds: { high: 0.8 } }).expect(200);
      const tookMs = await waitForInstance(manager, (i) => i.appliedVersion === 2, {
        instanceId: 'w-e2e',
        timeoutMs: 1000,
      });
      expect(tookMs).toBeLessThanOrEqual(1000);
      capturedV2 = (await probe.waitFor((m) => readEnvelope(m.payload).payload.version === 2))
        .payload;

      await manager.api.putSecret(SERVICE, 'ai.api_key', API_KEY).expect(204);
      await waitForInstance(manager, (i) => i.appliedVersion === 3, {
        instanceId: 'w-e2e',
        timeoutMs: 2000,
      });
      await worker.waitForLine(/Accepted dedup-worker config version 3/);
      const lkg = await lkgVersion(workerEnv.LKG_PATH, 3);
      expect(lkg).not.toContain(API_KEY);
      expect(Buffer.from(JSON.parse(lkg).envelope as string, 'base64').toString()).not.toContain(
        API_KEY,
      );
      expect(worker.lines.join('\n')).not.toContain(API_KEY);
    } finally {
      await worker.kill('SIGKILL');
      await probe.close();
    }
    await waitForInstance(manager, (i) => i.status === 'offline', {
      instanceId: 'w-e2e',
      timeoutMs: 5000,
    });
  }, 60000);

  it('restarts with the broker down from its last-known-good file, and refuses an old version replayed after the restart', async () => {
    const down = WorkerProcess.start({ ...workerEnv, MQTT_URL: 'mqtt://127.0.0.1:1' });
    try {
      await down.waitForLine(/Loaded last-known-good dedup-worker config version 3/);
      await down.waitForLine(
        /Running degraded on the last-known-good dedup-worker config version 3/,
      );
    } finally {
      await down.kill('SIGTERM');
    }

    // A broker that offers the older, authentic v2 (a replay): the worker keeps v3.
    const replaying = await startAedes();
    const publisher = await MqttProbe.connect(replaying.url, []);
    await publisher.publishRetained('system/config/dedup-worker', capturedV2);
    const replayed = WorkerProcess.start({ ...workerEnv, MQTT_URL: replaying.url });
    try {
      await replayed.waitForLine(/Loaded last-known-good dedup-worker config version 3/);
      await replayed.waitForLine(
        /Rejected a config message on system\/config\/dedup-worker \(stale, version 2\)/,
      );
      expect(replayed.lines.join('\n')).not.toMatch(/Accepted dedup-worker config version 2/);
    } finally {
      await replayed.kill('SIGTERM');
      await publisher.close();
      await replaying.stop();
    }
  }, 60000);
});
