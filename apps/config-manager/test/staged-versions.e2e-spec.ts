import {
  MqttProbe,
  type ProbeMessage,
  readEnvelope,
  startAedes,
  type StoreKind,
  type TestBroker,
} from '@app/testing';
import { startManager, type TestManager } from './support/test-app';

const SERVICE = 'dedup-worker';
const CONFIG_TOPIC = `system/config/${SERVICE}`;

const configVersions = (probe: MqttProbe) =>
  probe.messages
    .filter((m) => m.topic === CONFIG_TOPIC && m.payload.length > 0)
    .map((m) => readEnvelope(m.payload).payload.version);

const envelopeOf = (version: number) => (m: ProbeMessage) =>
  m.topic === CONFIG_TOPIC &&
  m.payload.length > 0 &&
  readEnvelope(m.payload).payload.version === version;

describe.each<StoreKind>(['sqlite', 'postgres'])('staged versions on %s', (store) => {
  let broker: TestBroker;
  let sut: TestManager;
  let probe: MqttProbe;

  beforeEach(async () => {
    broker = await startAedes();
    sut = await startManager({ store, env: { MQTT_URL: broker.url } });
    probe = await MqttProbe.connect(broker.url, [CONFIG_TOPIC]);
    await probe.waitFor(envelopeOf(1), 'version 1');
  });

  afterEach(async () => {
    await probe?.close();
    await sut?.close();
    await broker.stop();
  });

  it('X-Publish: staged creates a readable, diffable version without publishing it or moving the current one', async () => {
    const staged = await sut.api
      .patchConfig(SERVICE, { thresholds: { high: 0.8 } }, { publish: 'staged', reason: 'review' })
      .expect(200);

    expect(staged.body).toMatchObject({ version: 2, published: false });
    expect(staged.body.config.thresholds.high).toBe(0.8);
    expect(staged.headers['x-staged-version']).toBe('2');
    expect(staged.headers['x-version-created']).toBe('true');
    // Not the version's ETag: the config resource is still at version 1.
    expect(staged.headers.etag).not.toMatch(/^"\d+"$/);

    const current = await sut.api.config(SERVICE).expect(200);
    expect(current.body.version).toBe(1);
    expect(current.headers.etag).toBe('"1"');
    expect(current.body.config.thresholds.high).toBe(0.75);

    const history = await sut.api.versions(SERVICE).expect(200);
    expect(history.body.map((v) => [v.version, v.kind, v.state])).toEqual([
      [2, 'update', 'staged'],
      [1, 'initial', 'published'],
    ]);
    const version = await sut.api.version(SERVICE, 2).expect(200);
    expect(version.body).toMatchObject({ version: 2, state: 'staged', reason: 'review' });
    expect(version.body.config.thresholds.high).toBe(0.8);
    expect((await sut.api.diff(SERVICE, 1, 2).expect(200)).body).toEqual([
      { path: 'thresholds.high', from: 0.75, to: 0.8 },
    ]);
    const audit = await sut.api.audit({ service: SERVICE, limit: 1 }).expect(200);
    expect(audit.body[0]).toMatchObject({
      kind: 'staged-update',
      versionBefore: 1,
      versionAfter: 2,
    });

    // The next published write takes the next number; the broker never saw version 2.
    const published = await sut.api
      .patchConfig(SERVICE, { geo: { max_distance_km: 3 } })
      .expect(200);
    expect(published.body.version).toBe(3);
    expect(published.body.config.thresholds.high).toBe(0.75);
    await probe.waitFor(envelopeOf(3), 'version 3');
    expect(configVersions(probe)).toEqual([1, 3]);
  });

  it('bases every staged write on the current config, and If-Match still names the current version', async () => {
    await sut.api
      .patchConfig(SERVICE, { thresholds: { high: 0.8 } }, { publish: 'staged', ifMatch: 1 })
      .expect(200);
    const second = await sut.api
      .patchConfig(SERVICE, { geo: { max_distance_km: 3 } }, { publish: 'staged', ifMatch: 1 })
      .expect(200);

    expect(second.body.version).toBe(3);
    expect(second.body.config.thresholds.high).toBe(0.75);
    expect(second.body.config.geo.max_distance_km).toBe(3);
    // The staged version is not the current one: naming it is stale.
    const stale = await sut.api
      .patchConfig(SERVICE, { thresholds: { low: 0.3 } }, { ifMatch: 3 })
      .expect(412);
    expect(stale.body.message).toContain('is at version 1, not 3');
    // PUT and rollback stage too.
    const put = await sut.api
      .putConfig(SERVICE, { geo: { max_distance_km: 5 } }, { publish: 'staged' })
      .expect(200);
    expect(put.body.version).toBe(4);
    const rollback = await sut.api.rollback(SERVICE, 2, { publish: 'staged' }).expect(200);
    expect(rollback.body).toMatchObject({ version: 5, published: false });
    expect((await sut.api.version(SERVICE, 5).expect(200)).body).toMatchObject({
      kind: 'rollback',
      state: 'staged',
    });
    expect((await sut.api.config(SERVICE).expect(200)).body.version).toBe(1);
  });

  it('a staged write that changes nothing against the current config creates no version', async () => {
    const same = await sut.api
      .patchConfig(SERVICE, { thresholds: { high: 0.75 } }, { publish: 'staged' })
      .expect(200);
    expect(same.body.version).toBe(1);
    expect(same.headers['x-version-created']).toBe('false');
    expect((await sut.api.versions(SERVICE).expect(200)).body).toHaveLength(1);
  });

  it('stages a secret write: the current version keeps its secret state, and the value shows nowhere', async () => {
    await sut.api
      .putSecret(SERVICE, 'ai.api_key', 'sk-staged-1', { publish: 'staged' })
      .expect(204);
    const history = await sut.api.versions(SERVICE).expect(200);
    expect(history.body[0]).toMatchObject({ version: 2, kind: 'secret', state: 'staged' });
    expect((await sut.api.version(SERVICE, 2).expect(200)).body.secrets['ai.api_key'].set).toBe(
      true,
    );
    expect((await sut.api.config(SERVICE).expect(200)).body.secrets['ai.api_key'].set).toBe(false);

    const cleared = await sut.api.deleteSecret(SERVICE, 'ai.api_key', { publish: 'staged' });
    // Nothing is set in the current version: clearing changes nothing.
    expect(cleared.status).toBe(204);
    expect(cleared.headers.etag).toBe('"1"');

    const res = await sut.api
      .putSecret(SERVICE, 'ai.api_key', 'sk-staged-2', { publish: 'staged' })
      .expect(204);
    expect(res.headers['x-staged-version']).toBe('3');
    expect(res.headers.etag).not.toBe('"3"');
    expect(res.text).toBe('');
    expect(sut.logs.text()).not.toContain('sk-staged');
  });

  it('refuses an X-Publish that is neither now nor staged with 400 naming it, and creates nothing', async () => {
    const bad = await sut.api
      .patchConfig(SERVICE, { thresholds: { high: 0.8 } }, { publish: 'later' })
      .expect(400);
    expect(bad.body.details).toEqual([{ path: 'X-Publish', message: expect.any(String) }]);
    await sut.api.putSecret(SERVICE, 'ai.api_key', 'x', { publish: 'draft' }).expect(400);
    await sut.api.rollback(SERVICE, 1, { publish: 'soon' }).expect(400);
    const schema = await sut.api
      .registerService('billing-sync', { schema: { type: 'object' } })
      .set('X-Publish', 'staged')
      .expect(400);
    expect(schema.body.details?.[0].path).toBe('X-Publish');
    expect((await sut.api.versions(SERVICE).expect(200)).body).toHaveLength(1);
  });

  it('keeps allocating after the staged versions across a restart', async () => {
    await sut.api
      .patchConfig(SERVICE, { thresholds: { high: 0.8 } }, { publish: 'staged' })
      .expect(200);
    await sut.stop();
    sut = await startManager({ store, reuse: sut, env: { MQTT_URL: broker.url } });
    expect((await sut.api.config(SERVICE).expect(200)).body.version).toBe(1);
    const next = await sut.api.patchConfig(SERVICE, { thresholds: { low: 0.3 } }).expect(200);
    expect(next.body.version).toBe(3);
    expect((await sut.api.versions(SERVICE).expect(200)).body.map((v) => v.state)).toEqual([
      'published',
      'staged',
      'published',
    ]);
  });
});
