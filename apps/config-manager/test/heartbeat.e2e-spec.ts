import type { CandidatePayload } from '@app/contracts';
import {
  MqttProbe,
  type ProbeMessage,
  readEnvelope,
  startAedes,
  type TestBroker,
  until,
  verifiesWith,
} from '@app/testing';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SimulatedFleet } from './support/simulated-fleet';
import { startManager, type TestManager } from './support/test-app';

const SERVICE = 'dedup-worker';
const CONFIG_TOPIC = `system/config/${SERVICE}`;
const CANDIDATE_TOPIC = `system/candidate/${SERVICE}`;
const TTL_SECONDS = 120;
/** One-second heartbeats: the smallest interval CONFIG_HEARTBEAT_SECONDS takes. */
const FAST = { CONFIG_HEARTBEAT_SECONDS: '1', CONFIG_ENVELOPE_TTL_SECONDS: String(TTL_SECONDS) };

/** The value of one sample in Prometheus text, 0 when absent. */
function sample(metrics: string, series: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

const heartbeatSeries = (topic: 'config' | 'candidate') =>
  `config_heartbeats_total{service="${SERVICE}",topic="${topic}"}`;

const on = (topic: string) => (m: ProbeMessage) => m.topic === topic && m.payload.length > 0;

/** Waits until the probe holds at least `count` non-empty messages on `topic`; returns them. */
async function messages(probe: MqttProbe, topic: string, count: number, timeoutMs = 10_000) {
  return until(
    `${count} messages on ${topic}`,
    () => {
      const seen = probe.messages.filter(on(topic));
      return seen.length >= count ? seen : undefined;
    },
    { timeoutMs, intervalMs: 50 },
  );
}

describe('heartbeat attestations', () => {
  let broker: TestBroker;
  const managers: TestManager[] = [];
  const probes: MqttProbe[] = [];

  beforeEach(async () => {
    broker = await startAedes();
  });

  afterEach(async () => {
    await Promise.all(probes.splice(0).map((p) => p.close()));
    for (const m of managers.splice(0).reverse()) await m.close();
    await broker.stop();
  });

  const probe = async (topics = [CONFIG_TOPIC]) => {
    const p = await MqttProbe.connect(broker.url, topics);
    probes.push(p);
    return p;
  };

  it('re-signs the current version on the interval: same version and content, later issuedAt, expiresAt = issuedAt + TTL', async () => {
    const sut = await startManager({ store: 'sqlite', env: { MQTT_URL: broker.url, ...FAST } });
    managers.push(sut);
    const live = await probe();
    const seen = await messages(live, CONFIG_TOPIC, 4);

    const publicKey = (await sut.api.keys().expect(200)).body.signing[0].publicKey;
    const payloads = seen.map((m) => {
      expect(verifiesWith(m.payload, publicKey)).toBe(true);
      return readEnvelope(m.payload).payload;
    });
    for (const p of payloads) {
      expect(p.version).toBe(1);
      expect(p.config).toEqual(payloads[0].config);
      expect(Date.parse(p.expiresAt!) - Date.parse(p.issuedAt)).toBe(TTL_SECONDS * 1000);
    }
    const issued = payloads.map((p) => Date.parse(p.issuedAt));
    for (let i = 1; i < issued.length; i++) expect(issued[i]).toBeGreaterThan(issued[i - 1]);
    // Retained: a worker connecting now gets a recent one.
    const late = await probe();
    const retained = await late.waitFor(on(CONFIG_TOPIC), 'the retained envelope');
    expect(retained.retain).toBe(true);
    expect(Date.parse(readEnvelope(retained.payload).payload.issuedAt)).toBeGreaterThan(issued[0]);

    expect(sample(await sut.api.metrics(), heartbeatSeries('config'))).toBeGreaterThanOrEqual(3);
  });

  it('after a write, heartbeats carry the new version only', async () => {
    const sut = await startManager({ store: 'sqlite', env: { MQTT_URL: broker.url, ...FAST } });
    managers.push(sut);
    await sut.api.patchConfig(SERVICE, { thresholds: { low: 0.3 } }).expect(200);
    const live = await probe();
    const seen = await messages(live, CONFIG_TOPIC, 3);
    expect(seen.map((m) => readEnvelope(m.payload).payload.version)).toEqual([2, 2, 2]);
  });

  it('heartbeats leave the snapshot file as it is; a new version rewrites it (docs/recovery.md)', async () => {
    const sut = await startManager({ store: 'sqlite', env: { MQTT_URL: broker.url, ...FAST } });
    managers.push(sut);
    const file = join(sut.dataDir, 'snapshot.json');
    const snapshotVersion = () => {
      if (!existsSync(file)) return undefined;
      const body = JSON.parse(
        (JSON.parse(readFileSync(file, 'utf8')) as { body: string }).body,
      ) as { services: Array<{ name: string; version: number }> };
      return body.services.find((s) => s.name === SERVICE)?.version;
    };
    await until('the snapshot of v1', () => snapshotVersion() === 1 || undefined, {
      timeoutMs: 5000,
    });
    const live = await probe();
    // After the first heartbeat, start-up has settled; then three more re-sign v1, changing no state.
    await messages(live, CONFIG_TOPIC, 2);
    const written = readFileSync(file, 'utf8');
    await messages(live, CONFIG_TOPIC, 5);
    expect(readFileSync(file, 'utf8')).toBe(written);

    await sut.api.patchConfig(SERVICE, { thresholds: { low: 0.3 } }).expect(200);
    await until('the snapshot of v2', () => snapshotVersion() === 2 || undefined, {
      timeoutMs: 5000,
    });
  });

  it('skips an archived service: its tombstone stays, while the other services beat', async () => {
    const sut = await startManager({ store: 'sqlite', env: { MQTT_URL: broker.url, ...FAST } });
    managers.push(sut);
    const archived = 'report-worker';
    await sut.api
      .registerService(archived, {
        schema: {
          type: 'object',
          additionalProperties: false,
          properties: { max_pages: { type: 'integer', minimum: 1, default: 10 } },
        },
      })
      .expect(201);
    await sut.api.archiveService(archived).expect(200);
    const live = await probe([CONFIG_TOPIC, `system/config/${archived}`]);
    // Four heartbeats of dedup-worker are the clock; the archived service's topic holds its tombstone only.
    await messages(live, CONFIG_TOPIC, 4);
    const tombstones = live.messages.filter(on(`system/config/${archived}`));
    expect(tombstones).toHaveLength(1);
    expect(readEnvelope(tombstones[0].payload).payload).toMatchObject({ archived: true });
    expect(await sut.api.metrics()).not.toContain(`service="${archived}",topic="config"`);
  });

  it('CONFIG_HEARTBEAT_SECONDS=0 turns it off: the retained envelope is the publish, once', async () => {
    const on0 = await startManager({
      store: 'sqlite',
      env: { MQTT_URL: broker.url, CONFIG_HEARTBEAT_SECONDS: '0' },
    });
    managers.push(on0);
    const beating = await startManager({
      store: 'sqlite',
      env: { MQTT_URL: broker.url, ...FAST, MQTT_TOPIC_PREFIX: 'beat/' },
    });
    managers.push(beating);
    const live = await probe([CONFIG_TOPIC, `beat/${CONFIG_TOPIC}`]);
    // Three heartbeats of the other manager are the clock: meanwhile the silent one sent nothing new.
    await messages(live, `beat/${CONFIG_TOPIC}`, 4);
    expect(live.messages.filter(on(CONFIG_TOPIC))).toHaveLength(1);
    expect(sample(await on0.api.metrics(), heartbeatSeries('config'))).toBe(0);
  });

  it('two replicas on one Postgres and one broker: each heartbeat is one message, no republish storm', async () => {
    const a = await startManager({ store: 'postgres', env: { MQTT_URL: broker.url, ...FAST } });
    managers.push(a);
    const b = await startManager({
      store: 'postgres',
      reuse: a,
      env: { MQTT_URL: broker.url, ...FAST },
    });
    managers.push(b);
    const live = await probe();
    const beats = async () =>
      sample(await a.api.metrics(), heartbeatSeries('config')) +
      sample(await b.api.metrics(), heartbeatSeries('config'));
    const perManager = async () => [
      sample(await a.api.metrics(), heartbeatSeries('config')),
      sample(await b.api.metrics(), heartbeatSeries('config')),
    ];
    // Both beating before the window opens.
    await until(
      'both replicas beating',
      async () => ((await perManager()).every((n) => n >= 1) ? true : undefined),
      { timeoutMs: 10_000, intervalMs: 100 },
    );
    const beatsBefore = await beats();
    const messagesBefore = live.messages.filter(on(CONFIG_TOPIC)).length;
    await until(
      'eight more heartbeats',
      async () => ((await beats()) >= beatsBefore + 8 ? true : undefined),
      { timeoutMs: 15_000, intervalMs: 100 },
    );
    const beatsAfter = await beats();
    const sent = live.messages.filter(on(CONFIG_TOPIC)).length - messagesBefore;

    // One message per heartbeat (give or take the ones in flight at either edge of the window).
    expect(sent).toBeGreaterThanOrEqual(beatsAfter - beatsBefore - 2);
    expect(sent).toBeLessThanOrEqual(beatsAfter - beatsBefore + 2);
    expect(
      live.messages
        .filter(on(CONFIG_TOPIC))
        .every((m) => readEnvelope(m.payload).payload.version === 1),
    ).toBe(true);
    for (const m of [a, b]) {
      expect(sample(await m.api.metrics(), 'config_retained_incidents_total')).toBe(0);
      expect(m.logs.text()).not.toContain('replaced v1 on the broker');
    }
  });

  it('re-signs an active rollout candidate on the candidate topic: same rollout, step and cohort, later issuedAt', async () => {
    const sut = await startManager({
      store: 'sqlite',
      env: { MQTT_URL: broker.url, ...FAST, ROLLOUT_TICK_MS: '50' },
    });
    managers.push(sut);
    const fleet = await SimulatedFleet.connect(broker.url, SERVICE);
    try {
      await fleet.report('w-1', { labels: { tier: 'canary' } });
      await fleet.report('w-2', { labels: { tier: 'main' } });
      await until(
        'two instances in the view',
        async () =>
          (await sut.api.instances(SERVICE).expect(200)).body.length === 2 ? true : undefined,
        { timeoutMs: 3000 },
      );
      const live = await probe([CANDIDATE_TOPIC]);
      const version = (
        await sut.api
          .patchConfig(SERVICE, { thresholds: { high: 0.8 } }, { publish: 'staged' })
          .expect(200)
      ).body.version;
      const rollout = (
        await sut.api
          .createRollout(SERVICE, {
            version,
            strategy: {
              steps: [
                { cohort: { selector: { tier: 'canary' } }, bake: { seconds: 3600 } },
                { cohort: { all: true } },
              ],
              ackTimeoutSeconds: 3600,
            },
          })
          .expect(201)
      ).body;

      const seen = await messages(live, CANDIDATE_TOPIC, 3);
      const publicKey = (await sut.api.keys().expect(200)).body.signing[0].publicKey;
      const payloads = seen.map((m) => {
        expect(verifiesWith(m.payload, publicKey)).toBe(true);
        return readEnvelope(m.payload).payload as unknown as CandidatePayload;
      });
      for (const p of payloads) {
        expect(p).toMatchObject({
          version,
          rollout: { id: rollout.id, step: 1, stableVersion: 1, instances: ['w-1'] },
        });
        expect(Date.parse(p.expiresAt!) - Date.parse(p.issuedAt)).toBe(TTL_SECONDS * 1000);
      }
      const issued = payloads.map((p) => Date.parse(p.issuedAt));
      for (let i = 1; i < issued.length; i++) expect(issued[i]).toBeGreaterThan(issued[i - 1]);
      expect(sample(await sut.api.metrics(), heartbeatSeries('candidate'))).toBeGreaterThanOrEqual(
        2,
      );
    } finally {
      await fleet.close();
    }
  });
});
