import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LastKnownGoodStore } from '@app/config-client';
import { generateBoxKeyPair } from '@app/crypto';
import {
  freePort,
  type InProcessManager,
  startWorkerStack,
  until,
  waitForInstance,
  WorkerProcess,
} from '@app/testing';
import { CONFIG_MANAGER } from './support/config-manager';

const SERVICE = 'dedup-worker';
const API_KEY = 'sk-rotation-e2e-7c2b-never-in-clear';

// Key rotations of a worker (docs/recovery.md): LKG_HMAC_KEY with LKG_HMAC_KEYS_PREVIOUS, and the
// service's X25519 key with CONFIG_SECRET_KEYS_PREVIOUS, on real dedup-worker processes.
describe('dedup-worker key rotation, end to end', () => {
  let manager: InProcessManager;
  let workDir: string;
  let envFor: (instanceId: string) => Record<string, string>;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'dw-rotation-'));
    const stack = await startWorkerStack(CONFIG_MANAGER);
    manager = stack.manager;
    envFor = (instanceId) => ({
      ...stack.workerEnv(join(workDir, instanceId), instanceId),
      INITIAL_CONFIG_TIMEOUT_MS: '1000',
    });
    // A version with a sealed secret: the X25519 rotation needs one to open.
    await manager.api.putSecret(SERVICE, 'ai.api_key', API_KEY).expect(204);
  }, 30000);

  afterEach(async () => {
    await Promise.all(workers.splice(0).map((worker) => worker.kill('SIGKILL')));
  });

  afterAll(async () => {
    await manager?.close();
    rmSync(workDir, { recursive: true, force: true });
  });

  function start(env: Record<string, string>): WorkerProcess {
    const worker = WorkerProcess.start(env);
    workers.push(worker);
    return worker;
  }

  async function currentVersion(): Promise<number> {
    return (await manager.api.config(SERVICE).expect(200)).body.version;
  }

  it('restarted with a new LKG_HMAC_KEY and the old one in LKG_HMAC_KEYS_PREVIOUS, starts from its file and rewrites it under the new key', async () => {
    const env = envFor('w-lkg');
    const lkgPath = join(workDir, 'w-lkg', `${SERVICE}.w-lkg.lkg.json`);
    const oldKey = Buffer.from(env.LKG_HMAC_KEY, 'base64');
    const first = start(env);
    const version = await currentVersion();
    await waitForInstance(manager, (i) => i.status === 'online' && i.appliedVersion === version, {
      instanceId: 'w-lkg',
      timeoutMs: 20000,
    });
    await until(
      'the file saved under the old key',
      async () => {
        const loaded = await new LastKnownGoodStore(lkgPath, oldKey, 'w-lkg').load(SERVICE);
        return loaded.kind === 'ok' ? loaded : undefined;
      },
      { timeoutMs: 5000 },
    );
    await first.kill('SIGTERM');

    // Rotated, with the broker unreachable: only the file can give it a config.
    const newKey = randomBytes(32);
    const rotated = start({
      ...env,
      MQTT_URL: 'mqtt://127.0.0.1:1',
      LKG_HMAC_KEY: newKey.toString('base64'),
      LKG_HMAC_KEYS_PREVIOUS: `${randomBytes(24).toString('base64')},${env.LKG_HMAC_KEY}`,
    });
    await rotated.waitForLine(
      new RegExp(`Loaded last-known-good dedup-worker config version ${version}`),
    );
    await rotated.waitForLine(/checks only under a previous key .*rewriting it under the current/);
    await rotated.waitForLine(
      new RegExp(`Running degraded on the last-known-good dedup-worker config version ${version}`),
    );
    const rewritten = await until(
      'the file rewritten under the new key',
      async () => {
        const loaded = await new LastKnownGoodStore(lkgPath, newKey, 'w-lkg').load(SERVICE);
        return loaded.kind === 'ok' ? loaded : undefined;
      },
      { timeoutMs: 5000 },
    );
    expect(rewritten).toMatchObject({ format: 3, underPreviousKey: false });
    expect(await new LastKnownGoodStore(lkgPath, oldKey, 'w-lkg').load(SERVICE)).toMatchObject({
      kind: 'invalid',
    });
    expect(rotated.lines.join('\n')).not.toContain(API_KEY);
    await rotated.kill('SIGTERM');

    // Without the previous key, the same rotation would have had nothing to start from.
    const unrotated = start({
      ...envFor('w-lkg-other'),
      MQTT_URL: 'mqtt://127.0.0.1:1',
      LKG_PATH: lkgPath,
      INSTANCE_ID: 'w-lkg',
      LKG_HMAC_KEY: randomBytes(32).toString('base64'),
    });
    await unrotated.waitForLine(/Ignoring last-known-good file .*fails its HMAC check/);
  }, 90000);

  it('with a new CONFIG_SECRET_KEY and the old one in CONFIG_SECRET_KEYS_PREVIOUS, opens secrets still sealed to the old key; fresh in its health and metrics', async () => {
    const version = await currentVersion();
    const env = envFor('w-x25519');
    const metricsPort = await freePort();
    const rotated = start({
      ...env,
      CONFIG_SECRET_KEY: generateBoxKeyPair().secretKey.toString('base64'),
      CONFIG_SECRET_KEYS_PREVIOUS: env.CONFIG_SECRET_KEY,
      METRICS_PORT: String(metricsPort),
    });
    await rotated.waitForLine(new RegExp(`Accepted dedup-worker config version ${version}`), 20000);
    await waitForInstance(manager, (i) => i.status === 'online' && i.appliedVersion === version, {
      instanceId: 'w-x25519',
      timeoutMs: 10000,
    });
    const metrics = await until(
      'the freshness gauges',
      async () => {
        const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
        return /config_client_attested_age_seconds \d/.test(text) ? text : undefined;
      },
      { timeoutMs: 10000 },
    );
    expect(metrics).toMatch(/^config_client_stale 0$/m);
    expect(rotated.lines.join('\n')).not.toContain(API_KEY);

    // The same key change without the overlap: the version carrying the secret is refused.
    const unrotated = start({
      ...envFor('w-x25519-new-only'),
      CONFIG_SECRET_KEY: generateBoxKeyPair().secretKey.toString('base64'),
    });
    await unrotated.waitForLine(
      new RegExp(
        `Rejected a config message on system/config/dedup-worker \\(secret, version ${version}\\)`,
      ),
      20000,
    );
  }, 90000);
});
