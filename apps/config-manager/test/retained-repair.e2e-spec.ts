import { randomBytes } from 'node:crypto';
import { generateSigningKeyPair } from '@app/crypto';
import {
  eventually,
  MqttProbe,
  type ProbeMessage,
  readEnvelope,
  SHARED_MOSQUITTO_URL,
  signEnvelope,
} from '@app/testing';
import { startManager, TestManager } from './support/test-app';

const SERVICE = 'dedup-worker';

interface Incident {
  service: string;
  problem: string;
  version?: number;
  currentVersion: number;
}

/** An envelope around an arbitrary payload, signed with `secretKey` under `kid`. */
const envelope = (payload: object, kid: string, secretKey: Buffer): Buffer =>
  signEnvelope(payload, { kid, secretKey });

/**
 * The manager watches its own config topics: whatever an attacker with write access leaves
 * retained there (an empty message that deletes the config, garbage, forgeries, another
 * service's envelope, an older version) is replaced by the current signed envelope at once,
 * logged, counted in /metrics and reported by /health/ready, so a worker that starts
 * afterwards still gets the current version. Nothing unauthentic makes it reload the store.
 */
describe.each([
  ['the embedded aedes broker', 'embedded'],
  ['the local mosquitto', 'mosquitto'],
] as const)('the bus heals itself on %s', (_, kind) => {
  let sut: TestManager;
  let brokerUrl: string;
  let prefix: string;
  let topic: string;
  const probes: MqttProbe[] = [];

  beforeAll(async () => {
    prefix = kind === 'mosquitto' ? `t${randomBytes(4).toString('hex')}/` : '';
    topic = `${prefix}system/config/${SERVICE}`;
    sut = await startManager({
      store: 'sqlite',
      env:
        kind === 'mosquitto' ? { MQTT_URL: SHARED_MOSQUITTO_URL, MQTT_TOPIC_PREFIX: prefix } : {},
    });
    brokerUrl = kind === 'mosquitto' ? SHARED_MOSQUITTO_URL : await sut.api.brokerUrl();
    // Version 2, so that version 1 is an older authentic envelope to replay.
    await sut.api.patchConfig(SERVICE, { thresholds: { high: 0.8 } }).expect(200);
    await retainedVersion();
  });

  afterAll(async () => {
    await Promise.all(probes.splice(0).map((p) => p.close()));
    await sut.close();
    if (kind === 'mosquitto') {
      const cleaner = await MqttProbe.connect(brokerUrl, []);
      await cleaner.publishRetained(topic, Buffer.alloc(0));
      await cleaner.publishRetained(`${prefix}system/health/config-manager`, Buffer.alloc(0));
      await cleaner.close();
    }
  });

  const probe = async (filters: string[] = []) => {
    const p = await MqttProbe.connect(brokerUrl, filters);
    probes.push(p);
    return p;
  };

  /** What a worker starting now would get: the retained message's version (0 when none). */
  async function retainedVersion(): Promise<number> {
    const fresh = await probe([topic]);
    const retained = await fresh.waitFor((m) => m.retain && m.payload.length > 0, 'retained');
    return readEnvelope(retained.payload).payload.version;
  }

  async function incidents(): Promise<{ incidents: number; recent: Incident[] }> {
    const { incidents, recent } = (await sut.api.ready().expect(200)).body.checks.retainedConfigs;
    return { incidents: incidents as number, recent: recent as Incident[] };
  }

  async function metric(problem: string): Promise<number> {
    const text = await sut.api.metrics();
    const line = text
      .split('\n')
      .find((l) =>
        l.startsWith(`config_retained_incidents_total{service="${SERVICE}",problem="${problem}"}`),
      );
    return line === undefined ? 0 : Number(line.split(' ').pop());
  }

  /** Publishes `bytes` retained as an attacker, then waits for the manager's v2 to be back. */
  async function attack(bytes: Buffer, problem: string): Promise<void> {
    const before = (await incidents()).incidents;
    const watcher = await probe([topic]);
    await watcher.waitFor((m) => m.retain, 'the retained envelope');
    const attacker = await probe();
    await attacker.publishRetained(topic, bytes);
    // The attacker's message (never a v2), then the manager's v2 republished over it.
    await watcher.waitFor((m) => !m.retain && isVersion(m, 2), 'v2 republished');
    expect(await retainedVersion()).toBe(2);
    const seen = await eventually(incidents, (i) => i.incidents > before);
    expect(seen.incidents).toBe(before + 1);
    expect(seen.recent[0]).toMatchObject({ service: SERVICE, problem, currentVersion: 2 });
    expect(await metric(problem)).toBeGreaterThanOrEqual(1);
  }

  const isVersion = (m: ProbeMessage, version: number) => {
    try {
      return readEnvelope(m.payload).payload.version === version;
    } catch {
      return false;
    }
  };

  it('replaces an empty retained message, which would delete the config for new workers', async () => {
    await attack(Buffer.alloc(0), 'empty');
    expect(sut.logs.text()).toContain(
      'an empty retained message (which deletes the config) replaced v2 on the broker (empty); republishing v2',
    );
  });

  it('replaces garbage, envelopes signed with another key or an unknown kid, and another service’s envelope', async () => {
    const { kid, secretKey } = {
      kid: sut.settings.signing.keyId,
      secretKey: sut.settings.signing.secretKey,
    };
    const payload = (service: string, version: number) => ({
      service,
      version,
      issuedAt: new Date().toISOString(),
      schemaHash: 'sha256:0',
      config: {},
      secrets: {},
    });
    await attack(Buffer.from('not json at all'), 'malformed');
    await attack(
      envelope(payload(SERVICE, 99), kid, generateSigningKeyPair().secretKey),
      'signature',
    );
    await attack(envelope(payload(SERVICE, 99), 'kid-of-nobody', secretKey), 'unknown-key');
    await attack(envelope(payload('billing-sync', 3), kid, secretKey), 'service');
  });

  // The embedded broker disconnects such a publisher before storing anything
  // (message-size-limits.e2e-spec.ts); mosquitto without a size limit keeps it retained.
  if (kind === 'mosquitto') {
    it('replaces an oversized message it dropped unread, which a broker without a limit kept', async () => {
      await attack(Buffer.alloc(1024 * 1024, 0x20), 'oversized');
      expect(sut.logs.text()).toContain(
        'an oversized message replaced v2 on the broker (oversized)',
      );
    });
  }

  it('replaces an older authentic envelope replayed over the current one', async () => {
    const { kid, secretKey } = {
      kid: sut.settings.signing.keyId,
      secretKey: sut.settings.signing.secretKey,
    };
    await attack(
      envelope(
        {
          service: SERVICE,
          version: 1,
          issuedAt: new Date().toISOString(),
          schemaHash: 'sha256:0',
          config: {},
          secrets: {},
        },
        kid,
        secretKey,
      ),
      'stale',
    );
  });

  it('verifies before it reacts: a newer version of its own key makes a restore version above it, an unsigned one never', async () => {
    const refreshes = () => sut.logs.text().split('was published by another replica').length - 1;
    const refreshesBefore = refreshes();
    const attacker = await probe();
    const forged = envelope(
      { service: SERVICE, version: 50, config: { garbage: true } },
      sut.settings.signing.keyId,
      generateSigningKeyPair().secretKey,
    );
    for (let i = 0; i < 20; i++) await attacker.publishRetained(topic, forged);
    expect(await eventually(retainedVersion, (v) => v === 2)).toBe(2);
    expect(refreshes()).toBe(refreshesBefore);

    // Signed with the manager's own key but above its store (a restored backup): the fleet may
    // run v60 and would refuse anything at or below it, so the manager writes v61 of kind
    // `restore` with its store's content (never the envelope's), once however often v60 is
    // repeated, and puts it on the bus (docs/recovery.md).
    const stored = (await sut.api.config(SERVICE).expect(200)).body;
    const ahead = envelope(
      { service: SERVICE, version: 60, config: { garbage: true } },
      sut.settings.signing.keyId,
      sut.settings.signing.secretKey,
    );
    for (let i = 0; i < 20; i++) await attacker.publishRetained(topic, ahead);
    expect(await eventually(retainedVersion, (v) => v === 61)).toBe(61);
    const current = await sut.api.config(SERVICE).expect(200);
    expect(current.body.version).toBe(61);
    expect(current.body.config).toEqual(stored.config);
    const history = (await sut.api.versions(SERVICE).expect(200)).body;
    expect(history.map((v) => [v.version, v.kind])).toEqual([
      [61, 'restore'],
      [2, 'update'],
      [1, 'initial'],
    ]);
    expect(refreshes()).toBeLessThanOrEqual(refreshesBefore + 1);

    // Put the manager's own version back for the other tests.
    await sut.api.republish(SERVICE).expect(200);
  });
});
