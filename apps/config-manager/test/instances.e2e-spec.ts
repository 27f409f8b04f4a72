import { connectAsync, MqttClient } from 'mqtt';
import { bearer, eventually, startAedes, StoreKind, type TestBroker, TOKENS } from '@app/testing';
import { startManager, TestManager } from './support/test-app';

const SERVICE = 'dedup-worker';
const admin = bearer(TOKENS.admin);

/** A worker as seen on the wire: retained health with an offline last will. */
async function fakeWorker(url: string, instanceId: string): Promise<MqttClient> {
  const topic = `system/health/${SERVICE}/${instanceId}`;
  return connectAsync(url, {
    reconnectPeriod: 0,
    will: {
      topic,
      payload: Buffer.from(JSON.stringify({ service: SERVICE, instanceId, status: 'offline' })),
      qos: 1,
      retain: true,
    },
  });
}

async function report(client: MqttClient, instanceId: string, body: object): Promise<void> {
  await client.publishAsync(
    `system/health/${SERVICE}/${instanceId}`,
    JSON.stringify({ service: SERVICE, instanceId, ...body }),
    {
      qos: 1,
      retain: true,
    },
  );
}

describe.each<StoreKind>(['sqlite', 'postgres'])('instance view on %s', (store) => {
  let broker: TestBroker;
  let sut: TestManager;
  const clients: MqttClient[] = [];

  beforeEach(async () => {
    broker = await startAedes();
    sut = await startManager({ store, env: { MQTT_URL: broker.url } });
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
    await sut.close();
    await broker.stop();
  });

  const instances = async () => (await sut.api.instances(SERVICE).expect(200)).body;

  it('shows what each instance applied within a second, and counts them on /api/services', async () => {
    const w1 = await fakeWorker(broker.url, 'w-1');
    const w2 = await fakeWorker(broker.url, 'w-2');
    clients.push(w1, w2);
    await report(w1, 'w-1', {
      status: 'online',
      appliedVersion: 1,
      stagedVersion: 1,
      lastRunVersion: 1,
    });
    await report(w2, 'w-2', {
      status: 'degraded',
      appliedVersion: 0,
      lastRejection: { version: 3, reason: 'signature', at: '2026-11-21T20:00:00.000Z' },
      schemaDrift: true,
    });

    const view = await eventually(instances, (v) => v.length === 2, 1000);

    expect(view).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          instanceId: 'w-1',
          status: 'online',
          appliedVersion: 1,
          lastRunVersion: 1,
          lastRejection: null,
        }),
        expect.objectContaining({
          instanceId: 'w-2',
          status: 'degraded',
          schemaDrift: true,
          lastRejection: { version: 3, reason: 'signature', at: '2026-11-21T20:00:00.000Z' },
          lastSeen: expect.any(String),
        }),
      ]),
    );
    const services = await sut.api.services().expect(200);
    expect(services.body[0].instances).toEqual({
      total: 2,
      online: 1,
      degraded: 1,
      offline: 0,
      onCurrentVersion: 1,
    });
  });

  it('marks an instance offline when it dies (its last will), and keeps the view across a restart', async () => {
    const worker = await fakeWorker(broker.url, 'w-9');
    await report(worker, 'w-9', { status: 'online', appliedVersion: 1 });
    await eventually(instances, (v) => v.length === 1, 1000);

    worker.stream.destroy(); // a crash: no DISCONNECT, so the broker publishes the will

    const view = await eventually(instances, (v) => v[0]?.status === 'offline', 1000);
    expect(view[0]).toMatchObject({ instanceId: 'w-9', status: 'offline' });

    await sut.stop();
    // A fresh in-memory broker has no retained messages: the view can only come from the store.
    await broker.stop();
    await broker.start();
    sut = await startManager({ store, reuse: sut, env: { MQTT_URL: broker.url } });
    expect(await instances()).toEqual([
      expect.objectContaining({ instanceId: 'w-9', status: 'offline' }),
    ]);
  });

  it('ignores health messages that are not health messages, and 404s unknown services', async () => {
    const noisy = await connectAsync(broker.url);
    clients.push(noisy);
    await noisy.publishAsync(`system/health/${SERVICE}/w-x`, 'not json', { qos: 1 });
    await noisy.publishAsync(`system/health/${SERVICE}/w-y`, JSON.stringify({ status: 'sleepy' }), {
      qos: 1,
    });
    await noisy.publishAsync(
      `system/health/unknown-service/w-z`,
      JSON.stringify({ status: 'online' }),
      { qos: 1 },
    );
    const good = await fakeWorker(broker.url, 'w-ok');
    clients.push(good);
    await report(good, 'w-ok', { status: 'online', appliedVersion: 1 });

    const view = await eventually(instances, (v) => v.length > 0, 1000);
    expect(view.map((v) => v.instanceId)).toEqual(['w-ok']);
    await sut.api.instances('unknown-service').expect(404);
    await sut.http().get(`/api/services/${SERVICE}/instances`).expect(401);
  });

  it('keeps the versions an instance last reported when its last will says offline, and says since when', async () => {
    const worker = await fakeWorker(broker.url, 'w-7');
    await report(worker, 'w-7', {
      status: 'online',
      appliedVersion: 1,
      stagedVersion: 1,
      lastRunVersion: 1,
    });
    await eventually(instances, (v) => v[0]?.appliedVersion === 1, 1000);

    // The will was fixed at CONNECT and carries no versions (a real worker's carries those of
    // that moment, often 0): it must not erase what the instance applied since.
    worker.stream.destroy();
    const [view] = await eventually(instances, (v) => v[0]?.status === 'offline', 1000);
    expect(view).toMatchObject({
      instanceId: 'w-7',
      status: 'offline',
      appliedVersion: 1,
      stagedVersion: 1,
      lastRunVersion: 1,
    });
    expect(Date.parse(view.offlineSince ?? '')).toBeGreaterThan(Date.now() - 10_000);

    const back = await fakeWorker(broker.url, 'w-7');
    clients.push(back);
    await report(back, 'w-7', { status: 'online', appliedVersion: 1 });
    const [online] = await eventually(instances, (v) => v[0]?.status === 'online', 1000);
    expect(online.offlineSince).toBeNull();
  });

  it('refuses reports that claim another service, another instance or an unpublished version, and counts them', async () => {
    const spoofer = await connectAsync(broker.url);
    clients.push(spoofer);
    const publish = (instanceId: string, body: object) =>
      spoofer.publishAsync(`system/health/${SERVICE}/${instanceId}`, JSON.stringify(body), {
        qos: 1,
        retain: true,
      });
    await publish('w-a', { service: 'billing-sync', instanceId: 'w-a', status: 'online' });
    await publish('w-b', { service: SERVICE, instanceId: 'w-other', status: 'online' });
    await publish('w-c', {
      service: SERVICE,
      instanceId: 'w-c',
      status: 'online',
      appliedVersion: 99,
    });
    await publish('w-d', { status: 'online' });
    const good = await fakeWorker(broker.url, 'w-ok');
    clients.push(good);
    await report(good, 'w-ok', { status: 'online', appliedVersion: 1 });

    const view = await eventually(instances, (v) => v.length > 0, 1000);
    expect(view.map((v) => v.instanceId)).toEqual(['w-ok']);
    const metrics = await sut.api.metrics();
    for (const [reason, count] of [
      ['service', 1],
      ['instance', 1],
      ['version', 1],
      ['malformed', 1],
    ] as const) {
      expect(metrics).toContain(
        `config_instance_reports_refused_total{service="${SERVICE}",reason="${reason}"} ${count}`,
      );
    }
    expect(sut.logs.text()).toContain('check the broker ACL (one user per instance)');
  });

  it('shows the labels and run outcomes an instance reports, keeps them when it goes offline and across a restart', async () => {
    const worker = await fakeWorker(broker.url, 'w-l');
    const lastRun = { version: 1, ok: false, at: new Date().toISOString() };
    await report(worker, 'w-l', {
      status: 'online',
      appliedVersion: 1,
      lastRunVersion: 1,
      labels: { tier: 'canary', region: 'eu', Bad: 'key', zone: 'bad value' },
      runs: { version: 1, completed: 4, failed: 1 },
      lastRun,
    });
    const [view] = await eventually(instances, (v) => v.length === 1 && v[0].runs !== null, 1000);
    expect(view).toMatchObject({
      instanceId: 'w-l',
      labels: { tier: 'canary', region: 'eu' },
      runs: { version: 1, completed: 4, failed: 1 },
      lastRun,
    });
    expect(Object.keys(view.labels)).toEqual(['tier', 'region']);

    worker.stream.destroy(); // its will carries no labels or runs: the view keeps the last ones
    const [offline] = await eventually(instances, (v) => v[0]?.status === 'offline', 1000);
    expect(offline).toMatchObject({ labels: { tier: 'canary' }, runs: { completed: 4 }, lastRun });

    await sut.stop();
    await broker.stop();
    await broker.start();
    sut = await startManager({ store, reuse: sut, env: { MQTT_URL: broker.url } });
    expect((await instances())[0]).toMatchObject({
      labels: { tier: 'canary', region: 'eu' },
      runs: { version: 1, completed: 4, failed: 1 },
      lastRun,
    });
  });

  it('shows stale and attestedAt as workers report them, counts stale instances that are up in /metrics, and keeps both across a restart', async () => {
    const attestedAt = new Date(Date.now() - 10 * 60_000).toISOString();
    const stale = await fakeWorker(broker.url, 'w-stale');
    const fresh = await fakeWorker(broker.url, 'w-fresh');
    const old = await fakeWorker(broker.url, 'w-old');
    clients.push(stale, fresh, old);
    await report(stale, 'w-stale', {
      status: 'online',
      appliedVersion: 1,
      stale: true,
      attestedAt,
    });
    await report(fresh, 'w-fresh', {
      status: 'online',
      appliedVersion: 1,
      stale: false,
      attestedAt: new Date().toISOString(),
    });
    // A worker that does not track it; and a far-future attestedAt is not believed.
    await report(old, 'w-old', {
      status: 'online',
      appliedVersion: 1,
      attestedAt: '2999-01-01T00:00:00Z',
    });
    const views = await eventually(instances, (v) => v.length === 3, 1000);
    const byId = (id: string) => views.find((v) => v.instanceId === id);
    expect(byId('w-stale')).toMatchObject({ stale: true, attestedAt });
    expect(byId('w-fresh')).toMatchObject({ stale: false });
    expect(byId('w-old')).toMatchObject({ stale: null, attestedAt: null });
    expect(await sut.api.metrics()).toContain(`config_instances_stale{service="${SERVICE}"} 1`);

    // Stale and then offline: it no longer counts (it is not running), the view keeps what it said.
    stale.stream.destroy();
    await eventually(
      instances,
      (v) => v.find((i) => i.instanceId === 'w-stale')?.status === 'offline',
      1000,
    );
    expect(await sut.api.metrics()).toContain(`config_instances_stale{service="${SERVICE}"} 0`);

    await sut.stop();
    sut = await startManager({ store, reuse: sut, env: { MQTT_URL: broker.url } });
    expect((await instances()).find((v) => v.instanceId === 'w-stale')).toMatchObject({
      stale: true,
      attestedAt,
    });
  });

  it('shows an instance that reports no labels or runs with empty labels and null runs', async () => {
    const worker = await fakeWorker(broker.url, 'w-n');
    clients.push(worker);
    await report(worker, 'w-n', { status: 'online', appliedVersion: 1, runs: { version: 1 } });
    const [view] = await eventually(instances, (v) => v.length === 1, 1000);
    expect(view).toMatchObject({ labels: {}, runs: null, lastRun: null });
  });

  it('does not let a later report without a rejection clear the last one', async () => {
    const worker = await fakeWorker(broker.url, 'w-r');
    clients.push(worker);
    const rejection = { version: 1, reason: 'schema', at: new Date().toISOString() };
    await report(worker, 'w-r', { status: 'online', appliedVersion: 1, lastRejection: rejection });
    await eventually(
      instances,
      (v) => JSON.stringify(v[0]?.lastRejection ?? null).includes('schema'),
      1000,
    );
    await report(worker, 'w-r', { status: 'online', appliedVersion: 1, lastRunVersion: 1 });
    const [view] = await eventually(instances, (v) => v[0]?.lastRunVersion === 1, 1000);
    expect(view.lastRejection).toEqual(rejection);
  });

  it('does not let a report written before the one it holds replace it (a bridge re-sending the past)', async () => {
    const worker = await fakeWorker(broker.url, 'w-b');
    clients.push(worker);
    const now = Date.now();
    await report(worker, 'w-b', {
      status: 'online',
      appliedVersion: 1,
      at: new Date(now).toISOString(),
    });
    await eventually(instances, (v) => v.some((i) => i.instanceId === 'w-b'), 1000);
    // The same instance's earlier report arrives afterwards, live (as a bridge delivers it).
    await report(worker, 'w-b', {
      status: 'degraded',
      appliedVersion: 1,
      at: new Date(now - 5000).toISOString(),
    });
    const probe = await connectAsync(broker.url);
    clients.push(probe);
    // A marker after the old report: once it is in the view, the old one was handled.
    await report(probe, 'w-marker', { status: 'online', appliedVersion: 1 });
    const view = await eventually(
      instances,
      (v) => v.some((i) => i.instanceId === 'w-marker'),
      2000,
    );
    expect(view.find((i) => i.instanceId === 'w-b')?.status).toBe('online');

    // A newer report still replaces it.
    await report(worker, 'w-b', {
      status: 'degraded',
      appliedVersion: 1,
      at: new Date(now + 1000).toISOString(),
    });
    await eventually(
      instances,
      (v) => v.some((i) => i.instanceId === 'w-b' && i.status === 'degraded'),
      1000,
    );
  });

  it('does not take a retained report it already holds as news after a restart', async () => {
    const worker = await fakeWorker(broker.url, 'w-s');
    clients.push(worker);
    await report(worker, 'w-s', {
      status: 'online',
      appliedVersion: 1,
      at: new Date().toISOString(),
    });
    const [seen] = await eventually(instances, (v) => v.length === 1, 1000);
    await sut.stop(); // flushes the view to the store
    // Same broker: the retained report is delivered again to the new manager.
    sut = await startManager({ store, reuse: sut, env: { MQTT_URL: broker.url } });
    const probe = await connectAsync(broker.url);
    clients.push(probe);
    // A marker after the replay: once it is in the view, the replay was handled.
    await report(probe, 'w-marker', { status: 'online', appliedVersion: 1 });
    const view = await eventually(
      instances,
      (v) => v.some((i) => i.instanceId === 'w-marker'),
      2000,
    );
    expect(view.find((i) => i.instanceId === 'w-s')?.lastSeen).toBe(seen.lastSeen);
  });
});

describe('a bounded instance view', () => {
  let broker: TestBroker;
  let sut: TestManager;
  let spoofer: MqttClient;

  beforeAll(async () => {
    broker = await startAedes();
    sut = await startManager({
      store: 'sqlite',
      env: {
        MQTT_URL: broker.url,
        INSTANCES_MAX_PER_SERVICE: '50',
        INSTANCE_OFFLINE_TTL_SECONDS: '1',
      },
    });
    spoofer = await connectAsync(broker.url);
  });

  afterAll(async () => {
    await spoofer.endAsync(true);
    await sut.close();
    await broker.stop();
  });

  const page = (query: { limit?: number; offset?: number } = {}) =>
    sut.api.instances(SERVICE, query).expect(200);

  it('keeps at most INSTANCES_MAX_PER_SERVICE instances, counts the rest, and pages the list', async () => {
    for (let i = 0; i < 120; i++) {
      const instanceId = `spoof-${String(i).padStart(3, '0')}`;
      await spoofer.publishAsync(
        `system/health/${SERVICE}/${instanceId}`,
        JSON.stringify({ service: SERVICE, instanceId, status: 'online', appliedVersion: 1 }),
        { qos: 1, retain: true },
      );
    }
    const full = await eventually(
      () => page(),
      (res) => res.headers['x-total-count'] === '50',
      2000,
    );
    expect(full.body).toHaveLength(50);
    const metrics = await eventually(
      () => sut.api.metrics(),
      (text) => text.includes(`reason="capacity"} 70`),
    );
    expect(metrics).toContain(
      `config_instance_reports_refused_total{service="${SERVICE}",reason="capacity"} 70`,
    );

    const first = await page({ limit: 20 });
    expect(first.body).toHaveLength(20);
    expect(first.headers.link).toBe(
      `</api/services/${SERVICE}/instances?limit=20&offset=20>; rel="next"`,
    );
    const last = await page({ limit: 20, offset: 40 });
    expect(last.body).toHaveLength(10);
    expect(last.headers.link).toBeUndefined();
    const ids = [...first.body, ...(await page({ limit: 20, offset: 20 })).body, ...last.body].map(
      (v) => v.instanceId,
    );
    expect(new Set(ids).size).toBe(50);
    await sut.api.instances(SERVICE, { limit: 0 }).expect(400);
    await sut.api.instances(SERVICE, { limit: 1001 }).expect(400);
    await sut.http().get(`/api/services/${SERVICE}/instances?offset=0x10`).set(admin).expect(400);
  });

  it('forgets instances offline for longer than INSTANCE_OFFLINE_TTL_SECONDS, making room for new ones', async () => {
    for (let i = 0; i < 50; i++) {
      const instanceId = `spoof-${String(i).padStart(3, '0')}`;
      await spoofer.publishAsync(
        `system/health/${SERVICE}/${instanceId}`,
        JSON.stringify({ service: SERVICE, instanceId, status: 'offline' }),
        { qos: 1, retain: true },
      );
    }
    await eventually(
      () => page(),
      (res) => res.headers['x-total-count'] === '0',
      5000,
    ).then((res) => expect(res.headers['x-total-count']).toBe('0'));
    expect(sut.logs.text()).toContain('removed from the instance view');

    await spoofer.publishAsync(
      `system/health/${SERVICE}/newcomer`,
      JSON.stringify({
        service: SERVICE,
        instanceId: 'newcomer',
        status: 'online',
        appliedVersion: 1,
      }),
      { qos: 1, retain: true },
    );
    const view = await eventually(
      () => page(),
      (res) => res.body.length === 1,
      2000,
    );
    expect(view.body[0]).toMatchObject({ instanceId: 'newcomer', status: 'online' });
  });
});
