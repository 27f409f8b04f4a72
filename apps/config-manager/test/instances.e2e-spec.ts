import { connectAsync, MqttClient } from 'mqtt';
import { eventually } from './support/eventually';
import { startAedes, TestBroker } from './support/mqtt-brokers';
import { bearer, startManager, StoreKind, TestManager, TOKENS } from './support/test-app';

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

  const instances = () =>
    sut
      .http()
      .get(`/api/services/${SERVICE}/instances`)
      .set(admin)
      .then((r) => r.body as Array<Record<string, unknown>>);

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
    const services = await sut.http().get('/api/services').set(admin).expect(200);
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
    await sut.http().get('/api/services/unknown-service/instances').set(admin).expect(404);
    await sut.http().get(`/api/services/${SERVICE}/instances`).expect(401);
  });
});
