import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKeyPair } from '@app/crypto';
import {
  MqttProbe,
  readEnvelope,
  startAedes,
  type TestBroker,
  until,
  verifiesWith,
  waitForInstance,
  WorkerProcess,
} from '@app/testing';
import { startManager, type TestManager } from './support/test-app';

const SERVICE = 'dedup-worker';
const INSTANCE = 'w-rotation';
const HEALTH_TOPIC = `system/health/${SERVICE}/${INSTANCE}`;

/** A signing key as an operator generates it (npm run keys -- generate): its id and both halves. */
function signingKey(kid: string) {
  const pair = generateSigningKeyPair();
  return {
    kid,
    secret: pair.secretKey.toString('base64'),
    public: pair.publicKey.toString('base64'),
  };
}

type SigningKey = ReturnType<typeof signingKey>;
const trusted = (...keys: SigningKey[]) => keys.map((k) => `${k.kid}:${k.public}`).join(',');

/** The envelope the worker's last-known-good file holds. */
function lkgEnvelope(path: string) {
  const file = JSON.parse(readFileSync(path, 'utf8')) as { envelope: string };
  const bytes = Buffer.from(file.envelope, 'base64');
  return { bytes, ...readEnvelope(bytes) };
}

// The README's signing-key runbook, with real processes: the manager in this process on its own
// broker, the dedup-worker as its own process. The worker never goes offline or falls back to
// its defaults while the manager switches keys.
describe('signing key rotation, end to end', () => {
  jest.setTimeout(120_000);

  const keyA = signingKey('cfg-a');
  const keyB = signingKey('cfg-b');
  let broker: TestBroker;
  let manager: TestManager;
  let workDir: string;
  let health: MqttProbe;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    broker = await startAedes();
    workDir = mkdtempSync(join(tmpdir(), 'key-rotation-'));
    health = await MqttProbe.connect(broker.url, [HEALTH_TOPIC]);
  });

  afterAll(async () => {
    for (const w of workers) await w.kill('SIGKILL');
    await health?.close();
    await manager?.close();
    await broker?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  const managerEnv = (signing: SigningKey, previous: SigningKey[] = []) => ({
    MQTT_URL: broker.url,
    CONFIG_SIGNING_KEY: signing.secret,
    CONFIG_SIGNING_KEY_ID: signing.kid,
    CONFIG_SIGNING_KEYS_PREVIOUS: trusted(...previous),
    // The instance view is polled every 20 ms.
    RATE_LIMIT_PER_MINUTE: '100000',
  });
  const lkgKey = randomBytes(32).toString('base64');
  const workerEnv = (...keys: SigningKey[]) => ({
    MQTT_URL: broker.url,
    INSTANCE_ID: INSTANCE,
    CONFIG_TRUSTED_KEYS: trusted(...keys),
    LKG_HMAC_KEY: lkgKey,
    LKG_PATH: join(workDir, 'dedup-worker.lkg.json'),
    DATA_DIR: workDir,
  });
  const startWorker = (...keys: SigningKey[]) => {
    const worker = WorkerProcess.start(workerEnv(...keys));
    workers.push(worker);
    return worker;
  };
  const stopWorker = async (worker: WorkerProcess) => {
    await worker.kill('SIGTERM');
    workers.splice(workers.indexOf(worker), 1);
  };
  const statusesSince = (index: number) =>
    health.messages
      .slice(index)
      .filter((m) => m.payload.length > 0)
      .map((m) => JSON.parse(m.payload.toString()) as { status: string; source: string });
  /** Waits for a health report of the worker, after the `index`th message, that passes `check`. */
  const reported = (
    index: number,
    check: (s: { status: string; source: string; appliedVersion: number }) => boolean,
  ) =>
    health.waitFor(
      (m) =>
        health.messages.indexOf(m) >= index &&
        m.payload.length > 0 &&
        check(JSON.parse(m.payload.toString())),
      'a matching health report',
      20_000,
    );
  /** The worker's last-known-good envelope once it holds `version` (it is written after the apply). */
  const savedLkg = (version: number) =>
    until(
      `the last-known-good file holding v${version}`,
      () => {
        const lkg = lkgEnvelope(workerEnv().LKG_PATH);
        return lkg.payload.version === version ? lkg : undefined;
      },
      { timeoutMs: 5000 },
    );
  const neverDefaults = (worker: WorkerProcess) =>
    expect(worker.lines.join('\n')).not.toMatch(/schema defaults/);

  it('switches from key A to key B without a worker going offline or running its defaults', async () => {
    // 1. The manager signs with A; a worker trusts A.
    manager = await startManager({ store: 'sqlite', env: managerEnv(keyA) });
    const first = startWorker(keyA);
    await waitForInstance(manager, (i) => i.status === 'online' && i.appliedVersion === 1, {
      instanceId: INSTANCE,
      timeoutMs: 20_000,
    });
    await first.waitForLine(/Accepted dedup-worker config version 1/);
    expect((await savedLkg(1)).envelope.kid).toBe('cfg-a');

    // 2. The worker is restarted trusting A and B.
    await stopWorker(first);
    const bothFrom = health.messages.length;
    const both = startWorker(keyA, keyB);
    await reported(
      bothFrom,
      // From its last-known-good file, confirmed by the broker (same version).
      (s) => s.status === 'online' && s.appliedVersion === 1,
    );
    neverDefaults(first);

    // 3. The manager is restarted signing with B, A listed as previous.
    const fromRestart = health.messages.length;
    await manager.stop();
    manager = await startManager({
      store: 'sqlite',
      reuse: manager,
      env: managerEnv(keyB, [keyA]),
    });
    const keys = (await manager.api.keys().expect(200)).body.signing;
    expect(keys.map((k) => [k.kid, k.current])).toEqual([
      ['cfg-b', true],
      ['cfg-a', false],
    ]);

    // 4. A new write reaches the worker, signed with B.
    const config = await MqttProbe.connect(broker.url, [`system/config/${SERVICE}`]);
    try {
      await manager.api.patchConfig(SERVICE, { thresholds: { high: 0.81 } }).expect(200);
      const v2 = await config.waitFor(
        (m) => m.payload.length > 0 && readEnvelope(m.payload).payload.version === 2,
        'v2',
      );
      expect(readEnvelope(v2.payload).envelope.kid).toBe('cfg-b');
      expect(verifiesWith(v2.payload, keyB.public)).toBe(true);
    } finally {
      await config.close();
    }
    await both.waitForLine(/Accepted dedup-worker config version 2/);
    await waitForInstance(manager, (i) => i.status === 'online' && i.appliedVersion === 2, {
      instanceId: INSTANCE,
      timeoutMs: 5000,
    });
    // Online throughout the manager's restart, never on defaults.
    const during = statusesSince(fromRestart);
    expect(during.length).toBeGreaterThan(0);
    expect(during.filter((s) => s.status !== 'online')).toEqual([]);
    neverDefaults(both);

    // The last-known-good file now holds the version signed with B.
    const saved = await savedLkg(2);
    expect(saved.envelope.kid).toBe('cfg-b');
    expect(verifiesWith(saved.bytes, keyB.public)).toBe(true);

    // 5. The worker is restarted trusting only B: it starts from that file and stays on v2.
    await stopWorker(both);
    const onlyBFrom = health.messages.length;
    const onlyB = startWorker(keyB);
    await onlyB.waitForLine(/Loaded last-known-good dedup-worker config version 2/);
    await reported(onlyBFrom, (s) => s.status === 'online' && s.appliedVersion === 2);
    expect(onlyB.lines.join('\n')).not.toMatch(/Ignoring last-known-good file/);
    expect(onlyB.lines.join('\n')).not.toMatch(/unknown-key/);
    neverDefaults(onlyB);

    // Key A can now be dropped from the manager as well: it keeps serving v2, signed with B.
    await manager.stop();
    manager = await startManager({ store: 'sqlite', reuse: manager, env: managerEnv(keyB) });
    expect((await manager.api.keys().expect(200)).body.signing.map((k) => k.kid)).toEqual([
      'cfg-b',
    ]);
    await manager.api.patchConfig(SERVICE, { thresholds: { high: 0.82 } }).expect(200);
    await onlyB.waitForLine(/Accepted dedup-worker config version 3/);
  });
});
