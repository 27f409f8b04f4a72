import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEDUP_WORKER_SERVICE } from '@app/contracts';
import { formatKeyList, generateBoxKeyPair } from '@app/crypto';
import {
  type StoreKind,
  type TestBroker,
  eventually,
  startAedes,
  until,
  waitForInstance,
  WorkerProcess,
} from '@app/testing';
import { SimulatedFleet } from './support/simulated-fleet';
import { StoreCopy } from './support/store-copy';
import { startManager, type TestManager } from './support/test-app';

const SERVICE = DEDUP_WORKER_SERVICE;
const WORKERS = ['w-1', 'w-2'];

/**
 * Restores that strand nobody (docs/recovery.md): a store restored from a backup taken at v3
 * while two real dedup-worker processes run v6 would publish versions they refuse as older. The
 * manager finds v6 in its snapshot and its retained envelopes and writes v7 of kind `restore`
 * with the store's (v3's) content, audited; both workers end on it.
 */
describe.each<StoreKind>(['sqlite', 'postgres'])('a restored %s store', (store) => {
  let broker: TestBroker;
  let manager: TestManager | undefined;
  let dir: string;
  const workers: WorkerProcess[] = [];
  const recipient = generateBoxKeyPair();

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cm-restore-'));
    broker = await startAedes();
  });

  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.kill('SIGTERM')));
    await manager?.close();
    manager = undefined;
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = (reuse?: TestManager) =>
    startManager({
      store,
      env: {
        MQTT_URL: broker.url,
        SERVICE_RECIPIENT_KEYS: formatKeyList([{ id: SERVICE, key: recipient.publicKey }]),
      },
      ...(reuse ? { reuse } : {}),
    });

  const patchTo = async (sut: TestManager, version: number) => {
    const res = await sut.api
      .patchConfig(SERVICE, { thresholds: { high: 0.7 + version / 100 } })
      .expect(200);
    expect(res.body.version).toBe(version);
  };

  /** v3 in the backup; v6 applied by two real workers; the manager stopped on the restored copy. */
  const strandedFleet = async (): Promise<{ sut: TestManager; v3: unknown }> => {
    const sut = await start();
    for (const version of [2, 3]) await patchTo(sut, version);
    const v3 = (await sut.api.config(SERVICE).expect(200)).body.config;
    const backup = await StoreCopy.take(sut.settings, dir);
    for (const id of WORKERS) {
      const home = join(dir, id);
      mkdirSync(join(home, 'inbox'), { recursive: true });
      workers.push(
        WorkerProcess.start({
          ...(await sut.api.workerEnv({
            service: SERVICE,
            instanceId: id,
            dataDir: home,
            secretKey: recipient.secretKey,
          })),
          INPUT_DIR: join(home, 'inbox'),
          OUTPUT_DIR: join(home, 'outbox'),
        }),
      );
    }
    for (const version of [4, 5, 6]) await patchTo(sut, version);
    for (const id of WORKERS) {
      await waitForInstance(sut, (i) => i.appliedVersion === 6, {
        instanceId: id,
        timeoutMs: 30000,
      });
    }
    await sut.stop();
    await backup.restore();
    return { sut, v3 };
  };

  const expectRestoredAtV7 = async (sut: TestManager, v3: unknown) => {
    const current = await eventually(
      async () => (await sut.api.config(SERVICE).expect(200)).body,
      (body) => body.version === 7,
      15000,
    );
    expect(current.config).toEqual(v3);
    const history = (await sut.api.versions(SERVICE).expect(200)).body;
    expect(history.map((v) => [v.version, v.kind, v.createdBy])).toEqual([
      [7, 'restore', 'system'],
      [3, 'update', 'alice'],
      [2, 'update', 'alice'],
      [1, 'initial', 'system'],
    ]);
    const [audit] = (await sut.api.audit({ service: SERVICE }).expect(200)).body;
    expect(audit).toMatchObject({
      actor: 'system',
      kind: 'restore',
      versionBefore: 3,
      versionAfter: 7,
    });
    expect(audit.reason).toMatch(/store was at v3 but v6 had been published/);
    for (const id of WORKERS) {
      await waitForInstance(sut, (i) => i.appliedVersion === 7 && i.status === 'online', {
        instanceId: id,
        timeoutMs: 30000,
      });
    }
    for (const worker of workers) {
      await worker.waitForLine(/Accepted dedup-worker config version 7/);
    }
  };

  it('writes v7 of kind restore with the store’s content, and both workers end on it', async () => {
    const { sut, v3 } = await strandedFleet();
    manager = await start(sut);
    await expectRestoredAtV7(manager, v3);
  }, 120000);

  if (store === 'postgres') {
    it('two replicas starting on the restored store write one restore version between them', async () => {
      const { sut, v3 } = await strandedFleet();
      const [first, second] = await Promise.all([start(sut), start(sut)]);
      manager = first;
      try {
        await expectRestoredAtV7(first, v3);
        const seen = await eventually(
          async () => (await second.api.config(SERVICE).expect(200)).body.version,
          (version) => version === 7,
          15000,
        );
        expect(seen).toBe(7);
        const audit = (await first.api.audit({ service: SERVICE }).expect(200)).body;
        expect(audit.filter((entry) => entry.kind === 'restore')).toHaveLength(1);
      } finally {
        await second.stop();
      }
    }, 120000);
  }

  if (store === 'sqlite') {
    it('does the same from its snapshot alone when the broker lost its retained messages', async () => {
      const { sut, v3 } = await strandedFleet();
      await broker.stop();
      await broker.start();
      manager = await start(sut);
      await expectRestoredAtV7(manager, v3);
    }, 120000);
  }
});

/** Reports are not signed: a claim counts only within RESTORE_MAX_VERSION_GAP of what is known. */
describe('instances’ reported versions after a restore', () => {
  let broker: TestBroker;
  let sut: TestManager;
  let fleet: SimulatedFleet;

  beforeEach(async () => {
    broker = await startAedes();
    sut = await startManager({
      store: 'sqlite',
      env: { MQTT_URL: broker.url, RESTORE_MAX_VERSION_GAP: '100' },
    });
    await sut.api.patchConfig(SERVICE, { thresholds: { high: 0.72 } }).expect(200);
    await sut.api.patchConfig(SERVICE, { thresholds: { high: 0.73 } }).expect(200);
    fleet = await SimulatedFleet.connect(broker.url, SERVICE);
  });

  afterEach(async () => {
    await fleet.close();
    await sut.close();
    await broker.stop();
  });

  const ignoredClaims = async () => {
    const line = (await sut.api.metrics())
      .split('\n')
      .find((l) => l.startsWith(`config_restore_claims_ignored_total{service="${SERVICE}"}`));
    return Number(line?.split(' ')[1] ?? 0);
  };

  /** Claims are the retained reports a manager finds when it connects: report, then restart. */
  const restartAfter = async (instanceId: string, version: number) => {
    await fleet.applied(instanceId, version);
    await sut.stop();
    sut = await startManager({ store: 'sqlite', reuse: sut });
  };

  it('takes no live report as a claim: a broker client cannot move the version at runtime', async () => {
    await fleet.applied('w-1', 3 + 50);
    await fleet.applied('w-2', 3);
    await until(
      'both reports in the view',
      async () =>
        (await sut.api.instances(SERVICE).expect(200)).body.some((i) => i.instanceId === 'w-2')
          ? true
          : undefined,
      { timeoutMs: 10000 },
    );
    expect((await sut.api.config(SERVICE).expect(200)).body.version).toBe(3);
  });

  it('ignores a claim far above anything published, and counts it', async () => {
    await restartAfter('liar', 3 + 101);
    await eventually(ignoredClaims, (n) => n === 1, 10000);
    const current = await sut.api.config(SERVICE).expect(200);
    expect(current.body.version).toBe(3);
    const history = (await sut.api.versions(SERVICE).expect(200)).body;
    expect(history.map((v) => v.kind)).not.toContain('restore');
    expect(sut.logs.text()).toMatch(/ignored 1 reported applied version/);
  });

  it('believes a claim within the gap: the store restored below it gets a restore version', async () => {
    await restartAfter('w-1', 3 + 100);
    const current = await eventually(
      async () => (await sut.api.config(SERVICE).expect(200)).body,
      (body) => body.version === 104,
      10000,
    );
    expect(current.config).toMatchObject({ thresholds: { high: 0.73 } });
    expect(await ignoredClaims()).toBe(0);
  });
});

/** Waits until the manager's snapshot file holds version 2 (it is written after a publish). */
const snapshotOfV2 = (file: string) =>
  until(
    'the snapshot of v2',
    () =>
      existsSync(file) && readFileSync(file, 'utf8').includes('\\"version\\":2') ? true : undefined,
    { timeoutMs: 5000 },
  );

/** The snapshot is evidence only while its HMAC (keyed from the master key) verifies. */
describe('the snapshot', () => {
  let sut: TestManager | undefined;

  afterEach(async () => {
    await sut?.close();
  });

  it('is written 0600 after a publish, with secrets only as ciphertext', async () => {
    sut = await startManager({ store: 'sqlite' });
    const secret = `sk-snapshot-${Date.now()}`;
    await sut.api.putSecret(SERVICE, 'ai.api_key', secret).expect(204);
    const file = join(sut.dataDir, 'snapshot.json');
    await snapshotOfV2(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file).includes(Buffer.from(secret))).toBe(false);
    expect(readFileSync(file, 'utf8')).toContain('ai.api_key');
  });

  it('is ignored with a log line, and moves no version', async () => {
    const first = await startManager({ store: 'sqlite' });
    await first.api.patchConfig(SERVICE, { thresholds: { high: 0.72 } }).expect(200);
    const file = join(first.dataDir, 'snapshot.json');
    await snapshotOfV2(file);
    await first.stop();
    writeFileSync(file, readFileSync(file, 'utf8').replace('\\"version\\":2', '\\"version\\":60'));

    sut = await startManager({ store: 'sqlite', reuse: first });
    expect(sut.logs.text()).toMatch(/Ignoring .*snapshot\.json: its HMAC does not verify/);
    const current = await sut.api.config(SERVICE).expect(200);
    expect(current.body.version).toBe(2);
    const history = (await sut.api.versions(SERVICE).expect(200)).body;
    expect(history.map((v) => v.kind)).not.toContain('restore');
  });
});
