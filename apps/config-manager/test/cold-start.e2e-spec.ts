import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { configTopic, DEDUP_WORKER_SERVICE } from '@app/contracts';
import { MqttProbe, readEnvelope, TcpGate, TEST_POSTGRES_URL, until } from '@app/testing';
import { startManager, type TestManager } from './support/test-app';

const SERVICE = DEDUP_WORKER_SERVICE;

/**
 * Cold start from the snapshot (docs/recovery.md): a manager whose Postgres is unreachable at
 * start boots read-only from DATA_DIR/snapshot.json (reads marked X-Read-Only, writes 503 with
 * Retry-After, readiness 503 naming the cause, the snapshot's version on the bus), and becomes
 * a normal manager when the database returns, without a restart.
 */
describe('a cold start without Postgres', () => {
  let first: TestManager | undefined;
  let sut: TestManager | undefined;
  let gate: TcpGate | undefined;
  let probe: MqttProbe | undefined;

  afterEach(async () => {
    await probe?.close();
    await gate?.open();
    await sut?.close();
    await gate?.close();
    await first?.close();
  });

  it('serves the snapshot read-only, then everything once the database is reachable', async () => {
    first = await startManager({ store: 'postgres' });
    await first.api.patchConfig(SERVICE, { thresholds: { high: 0.71 } }).expect(200);
    // Version 3 carries a secret: the snapshot must keep what opens its ciphertext.
    await first.api.putSecret(SERVICE, 'ai.api_key', 'sk-cold-start-secret').expect(204);
    const v3 = (await first.api.config(SERVICE).expect(200)).body;
    expect(v3.version).toBe(3);
    await first.stop();

    const postgres = new URL(TEST_POSTGRES_URL);
    gate = await TcpGate.closed({ host: postgres.hostname, port: Number(postgres.port || 5432) });
    const gated = new URL(TEST_POSTGRES_URL);
    gated.port = String(gate.port);
    const { database } = first.settings;
    if (database.type !== 'postgres' || !database.schema) throw new Error('not a Postgres schema');
    gated.searchParams.set('schema', database.schema);
    sut = await startManager({
      store: 'postgres',
      reuse: first,
      env: { DATABASE_URL: gated.toString() },
    });

    const read = await sut.api.config(SERVICE).expect(200);
    expect(read.headers['x-read-only']).toBe('true');
    expect(read.body.version).toBe(3);
    expect(read.body.config).toEqual(v3.config);
    const versions = await sut.api.versions(SERVICE).expect(200);
    expect(versions.headers['x-read-only']).toBe('true');
    expect(versions.body.map((v) => v.version)).toEqual([3]);
    const services = await sut.api.services().expect(200);
    expect(services.body.map((s) => s.service)).toContain(SERVICE);

    const refused = await sut.api.patchConfig(SERVICE, { thresholds: { high: 0.9 } }).expect(503);
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);
    expect(refused.headers['x-read-only']).toBe('true');
    const notReady = await sut.api.ready().expect(503);
    expect(String(notReady.body.checks.database.reason)).toMatch(/cold start/);

    // The bus gets the snapshot's version, signed, from this manager's own (fresh) broker.
    probe = await MqttProbe.connect(String(notReady.body.checks.broker.url), [
      configTopic(SERVICE),
    ]);
    const retained = await probe.waitFor((m) => m.payload.length > 0, 'the retained config', 10000);
    const published = readEnvelope(retained.payload).payload;
    expect(published.version).toBe(3);
    expect(Object.keys(published.secrets)).toEqual(['ai.api_key']);
    expect(retained.payload.toString()).not.toContain('sk-cold-start-secret');

    await gate.open();
    await until(
      'the manager to be ready',
      async () => ((await sut?.api.ready())?.status === 200 ? true : undefined),
      { timeoutMs: 15000 },
    );
    const written = await sut.api.patchConfig(SERVICE, { thresholds: { high: 0.9 } }).expect(200);
    expect(written.body.version).toBe(4);
    expect(written.headers['x-read-only']).toBeUndefined();
    const history = (await sut.api.versions(SERVICE).expect(200)).body;
    expect(history.map((v) => v.version)).toEqual([4, 3, 2, 1]);
    await probe.waitFor(
      (m) => m.payload.length > 0 && readEnvelope(m.payload).payload.version === 4,
      'version 4 on the bus',
      10000,
    );
  }, 60000);

  it('still refuses to start without a snapshot', async () => {
    first = await startManager({ store: 'postgres' });
    await first.stop();
    rmSync(join(first.dataDir, 'snapshot.json'), { force: true });
    gate = await TcpGate.closed({ host: '127.0.0.1', port: 5432 });
    const gated = new URL(TEST_POSTGRES_URL);
    gated.port = String(gate.port);
    await expect(
      startManager({ store: 'postgres', reuse: first, env: { DATABASE_URL: gated.toString() } }),
    ).rejects.toThrow(/ECONNREFUSED/);
  }, 60000);
});
