import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  formatKeyList,
  generateBoxKeyPair,
  generateSigningKeyPair,
  openSealedSecret,
} from '@app/crypto';
import {
  eventually,
  Mosquitto,
  MqttProbe,
  type ProbeMessage,
  readEnvelope,
  SHARED_MOSQUITTO_URL,
  startAedes,
  type TestBroker,
  TOKENS,
  verifiesWith,
} from '@app/testing';
import { startManager, TestManager } from './support/test-app';

const SERVICE = 'dedup-worker';
const API_KEY = 'sk-live-sealed-9d1c-never-in-clear';

/** A unique topic prefix so tests can share a broker. */
const uniquePrefix = () => `t${randomBytes(4).toString('hex')}/`;

function envelopeOf(version: number, prefix = '') {
  return (m: ProbeMessage) =>
    m.topic === `${prefix}system/config/${SERVICE}` &&
    readEnvelope(m.payload).payload.version === version;
}

async function publicKey(manager: TestManager): Promise<string> {
  const res = await manager.api.keys().expect(200);
  return res.body.signing[0].publicKey;
}

describe.each([
  ['the embedded aedes broker', 'embedded'],
  ['the local mosquitto', 'mosquitto'],
] as const)('signed retained push through %s', (_, kind) => {
  const recipient = generateBoxKeyPair();
  let sut: TestManager;
  let brokerUrl: string;
  let prefix: string;
  const probes: MqttProbe[] = [];

  beforeEach(async () => {
    prefix = kind === 'mosquitto' ? uniquePrefix() : '';
    sut = await startManager({
      store: 'sqlite',
      env: {
        ...(kind === 'mosquitto'
          ? { MQTT_URL: SHARED_MOSQUITTO_URL, MQTT_TOPIC_PREFIX: prefix }
          : {}),
        SERVICE_RECIPIENT_KEYS: formatKeyList([{ id: SERVICE, key: recipient.publicKey }]),
      },
    });
    brokerUrl = kind === 'mosquitto' ? SHARED_MOSQUITTO_URL : await sut.api.brokerUrl();
  });

  afterEach(async () => {
    await Promise.all(probes.splice(0).map((p) => p.close()));
    await sut.close();
    if (kind === 'mosquitto') {
      // The shared mosquitto persists retained messages: leave nothing behind.
      const cleaner = await MqttProbe.connect(brokerUrl, []);
      await cleaner.publishRetained(`${prefix}system/config/${SERVICE}`, Buffer.alloc(0));
      await cleaner.publishRetained(`${prefix}system/health/config-manager`, Buffer.alloc(0));
      await cleaner.close();
    }
  });

  const probe = async () => {
    const p = await MqttProbe.connect(brokerUrl, [`${prefix}system/#`]);
    probes.push(p);
    return p;
  };

  it('publishes each version signed (tweetnacl verifies it with the key from /api/keys), complete and retained', async () => {
    const live = await probe();
    const res = await sut.api.patchConfig(SERVICE, { thresholds: { high: 0.8 } }).expect(200);

    expect(res.body.published).toBe(true);
    expect(res.headers['x-config-published']).toBe('true');
    const message = await live.waitFor(envelopeOf(2, prefix), 'version 2');
    const { envelope, payload } = readEnvelope(message.payload);
    const keys = await sut.api.keys().expect(200);
    expect(keys.body.signing).toEqual([
      { kid: envelope.kid, alg: 'Ed25519', publicKey: expect.any(String), current: true },
    ]);
    expect(verifiesWith(message.payload, await publicKey(sut))).toBe(true);
    expect(payload).toMatchObject({
      service: SERVICE,
      version: 2,
      schemaHash: expect.stringMatching(/^sha256:/),
    });
    expect(payload.config).toEqual(res.body.config);
    expect(Date.parse(payload.issuedAt)).not.toBeNaN();

    const late = await probe();
    const retained = await late.waitFor(envelopeOf(2, prefix), 'retained version 2');
    expect(retained.retain).toBe(true);
    const status = await late.waitFor((m) => m.topic === `${prefix}system/health/config-manager`);
    expect(JSON.parse(status.payload.toString())).toMatchObject({
      status: 'online',
      service: 'config-manager',
    });
  });

  it('seals secrets to the service key only; the plaintext never crosses the wire', async () => {
    const live = await probe();
    await sut.api.putSecret(SERVICE, 'ai.api_key', API_KEY).expect(204);

    const message = await live.waitFor(envelopeOf(2, prefix), 'version 2');
    const sealed = readEnvelope(message.payload).payload.secrets['ai.api_key'];

    expect(sealed.alg).toBe('x25519-xsalsa20-poly1305');
    expect(openSealedSecret(sealed, recipient.secretKey).toString()).toBe(API_KEY);
    expect(() => openSealedSecret(sealed, generateBoxKeyPair().secretKey)).toThrow();
    expect(live.rawBytes().includes(Buffer.from(API_KEY))).toBe(false);
    expect(live.rawBytes().toString('latin1')).not.toContain(
      Buffer.from(API_KEY).toString('base64'),
    );
    expect(sut.logs.text()).not.toContain(API_KEY);
  });

  it('republishes on request (admin only)', async () => {
    const live = await probe();
    await live.waitFor(envelopeOf(1, prefix), 'version 1');
    const before = live.messages.length;

    await sut.api.as(TOKENS.writer).republish(SERVICE).expect(403);
    const res = await sut.api.republish(SERVICE).expect(200);

    expect(res.body).toEqual({ service: SERVICE, version: 1, published: true });
    await live.waitFor(
      (m) => live.messages.indexOf(m) >= before && envelopeOf(1, prefix)(m),
      'republished v1',
    );
    await sut.api.republish('nope-service').expect(404);
  });
});

describe('broker outages', () => {
  let sut: TestManager | undefined;
  let broker: TestBroker | Mosquitto | undefined;
  const probes: MqttProbe[] = [];

  afterEach(async () => {
    await Promise.all(probes.splice(0).map((p) => p.close()));
    await sut?.close();
    await (broker instanceof Mosquitto ? broker.destroy() : broker?.stop());
    sut = undefined;
    broker = undefined;
  });

  const probe = async (url: string) => {
    const p = await MqttProbe.connect(url, ['system/#']);
    probes.push(p);
    return p;
  };

  it('accepts PATCHes while the broker is down and publishes the latest when it returns, skipping nothing in history', async () => {
    const aedes = await startAedes();
    broker = aedes;
    sut = await startManager({ store: 'sqlite', env: { MQTT_URL: aedes.url } });
    await (await probe(aedes.url)).waitFor(envelopeOf(1), 'version 1');
    await Promise.all(probes.splice(0).map((p) => p.close()));

    await aedes.stop();
    for (const high of [0.8, 0.85, 0.9]) {
      const res = await sut.api.patchConfig(SERVICE, { thresholds: { high } }).expect(200);
      expect(res.body.published).toBe(false);
    }
    const ready = await sut.api.ready().expect(503);
    expect(ready.body.checks.broker.status).toBe('down');
    await sut.api.republish(SERVICE).expect(503);
    await aedes.start();

    // Whether the probe or the manager reconnects first, v4 arrives (live or retained)...
    await (
      await probe(aedes.url)
    ).waitFor(envelopeOf(4), 'version 4 after the broker returned', 10000);
    // ...and the broker keeps it for subscribers that come later.
    const message = await (await probe(aedes.url)).waitFor(envelopeOf(4), 'retained version 4');
    expect(message.retain).toBe(true);
    expect(readEnvelope(message.payload).payload.config).toMatchObject({
      thresholds: { high: 0.9 },
    });
    const history = await sut.api.versions(SERVICE).expect(200);
    expect(history.body.map((v) => v.version)).toEqual([4, 3, 2, 1]);
    const current = await sut.api.config(SERVICE).expect(200);
    expect(current.body.published).toBe(true);
  });

  it('heals a mosquitto restarted without persistence: a new subscriber gets the current version', async () => {
    const mosquitto = await Mosquitto.start();
    broker = mosquitto;
    sut = await startManager({ store: 'sqlite', env: { MQTT_URL: mosquitto.url } });
    await sut.api.patchConfig(SERVICE, { geo: { max_distance_km: 7 } }).expect(200);

    await mosquitto.kill('SIGKILL');
    await mosquitto.start();

    const message = await (
      await probe(mosquitto.url)
    ).waitFor(envelopeOf(2), 'version 2 after restart', 10000);
    expect(readEnvelope(message.payload).payload.config).toMatchObject({
      geo: { max_distance_km: 7 },
    });
  });

  it('says offline on system/health/config-manager when it shuts down', async () => {
    const aedes = await startAedes();
    broker = aedes;
    sut = await startManager({ store: 'sqlite', env: { MQTT_URL: aedes.url } });
    const watcher = await probe(aedes.url);
    await watcher.waitFor(
      (m) => m.topic === 'system/health/config-manager' && m.payload.includes('"online"'),
    );

    await sut.stop();

    const offline = await watcher.waitFor(
      (m) => m.topic === 'system/health/config-manager' && m.payload.includes('"offline"'),
    );
    expect(JSON.parse(offline.payload.toString())).toMatchObject({
      service: 'config-manager',
      status: 'offline',
    });
    sut = undefined;
  });
});

describe('publication hygiene', () => {
  let sut: TestManager;
  let aedes: TestBroker;
  const probes: MqttProbe[] = [];

  beforeEach(async () => {
    aedes = await startAedes();
    sut = await startManager({ store: 'sqlite', env: { MQTT_URL: aedes.url } });
    // The manager says online only after its connect-time publish, so later subscribers
    // see each version once.
    const status = await MqttProbe.connect(aedes.url, ['system/health/config-manager']);
    await status.waitFor((m) => m.payload.includes('"online"'), 'manager online');
    await status.close();
  });

  afterEach(async () => {
    await Promise.all(probes.splice(0).map((p) => p.close()));
    await sut.close();
    await aedes.stop();
  });

  const probe = async () => {
    const p = await MqttProbe.connect(aedes.url, ['system/config/#']);
    probes.push(p);
    return p;
  };

  it('publishes each version exactly once under back-to-back PATCHes (late echoes cause no republish)', async () => {
    const live = await probe();
    await live.waitFor(envelopeOf(1), 'version 1');
    for (let i = 0; i < 10; i++) {
      await sut.api.patchConfig(SERVICE, { cluster: { max_cluster_size: 20 + i } }).expect(200);
    }
    await live.waitFor(envelopeOf(11), 'version 11');
    // Anything published after v11 (a republish storm) would arrive within this round trip.
    await sut.api.republish(SERVICE).expect(200);
    await live.waitFor(
      () => live.messages.filter(envelopeOf(11)).length === 2,
      'the explicit republish',
    );

    const versions = live.messages.map((m) => readEnvelope(m.payload).payload.version);
    expect(versions).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 11]);
  });

  it('puts its version back when an older authentic envelope is replayed over it on the broker', async () => {
    const live = await probe();
    const v1 = await live.waitFor(envelopeOf(1), 'version 1');
    await sut.api.patchConfig(SERVICE, { thresholds: { high: 0.8 } }).expect(200);
    await live.waitFor(envelopeOf(2), 'version 2');

    const attacker = await MqttProbe.connect(aedes.url, []);
    probes.push(attacker);
    await attacker.publishRetained('system/config/dedup-worker', v1.payload);

    // v2 arrives a second time: the manager republished it over the replayed v1.
    await live.waitFor(
      () => live.messages.filter(envelopeOf(2)).length >= 2,
      'version 2 republished',
    );
    const later = await probe();
    const retained = await later.waitFor((m) => m.retain, 'the retained envelope');
    expect(readEnvelope(retained.payload).payload.version).toBe(2);
    expect(sut.logs.text()).toContain('dedup-worker v1 replaced v2 on the broker');
  });
});

describe('replicas', () => {
  it("a replica learns of another replica's write from the bus and serves it", async () => {
    const aedes = await startAedes();
    const a = await startManager({ store: 'sqlite', env: { MQTT_URL: aedes.url } });
    const b = await startManager({ store: 'sqlite', reuse: a, env: { MQTT_URL: aedes.url } });
    try {
      await a.api.patchConfig(SERVICE, { thresholds: { low: 0.3 } }).expect(200);

      const seen = await eventually(
        () => b.api.config(SERVICE).expect(200),
        (res) => res.body.version === 2,
        5000,
      );
      expect(seen.body.version).toBe(2);
    } finally {
      await b.stop();
      await a.close();
      await aedes.stop();
    }
  });
});

describe('a service without a recipient key', () => {
  it('gets no secrets in its payload, and the manager warns once at start', async () => {
    const aedes = await startAedes();
    const sut = await startManager({
      store: 'sqlite',
      env: {
        // Production: no development keys are generated, so the service really has none.
        NODE_ENV: 'production',
        SERVICE_RECIPIENT_KEYS: '',
        CONFIG_SIGNING_KEY: generateSigningKeyPair().secretKey.toString('base64'),
        CONFIG_SIGNING_KEY_ID: 'cfg-test',
        MQTT_URL: aedes.url,
      },
    });
    try {
      const live = await MqttProbe.connect(aedes.url, ['system/config/#']);
      await sut.api.putSecret(SERVICE, 'ai.api_key', API_KEY).expect(204);
      const message = await live.waitFor(envelopeOf(2), 'version 2');
      await live.close();

      expect(readEnvelope(message.payload).payload.secrets).toEqual({});
      expect(
        sut.logs.lines.filter((l) =>
          l.includes('SERVICE_RECIPIENT_KEYS has no key for dedup-worker'),
        ),
      ).toHaveLength(1);
    } finally {
      await sut.close();
      await aedes.stop();
    }
  });
});

describe('the outbox mark (services.published_version)', () => {
  const markOf = (dataDir: string): number | null => {
    const db = new Database(join(dataDir, 'config.db'), { readonly: true });
    try {
      const row = db
        .prepare('SELECT published_version AS mark FROM services WHERE name = ?')
        .get(SERVICE) as { mark: number | null };
      return row.mark;
    } finally {
      db.close();
    }
  };

  it('follows what the broker acknowledged, off the response path, and is written before the manager stops', async () => {
    const sut = await startManager({ store: 'sqlite' });
    try {
      // The start-up publish of version 1, once the broker acknowledged it.
      await eventually(
        () => Promise.resolve(markOf(sut.dataDir)),
        (mark) => mark === 1,
      );
      for (const low of [0.31, 0.32, 0.33]) {
        const res = await sut.api.patchConfig(SERVICE, { thresholds: { low } }).expect(200);
        expect(res.body.published).toBe(true);
      }
      // Written off the response path, within MARK_DELAY_MS.
      await eventually(
        () => Promise.resolve(markOf(sut.dataDir)),
        (mark) => mark === 4,
      );
      const last = await sut.api.patchConfig(SERVICE, { thresholds: { low: 0.34 } }).expect(200);
      expect(last.body).toMatchObject({ version: 5, published: true });
      // Stopped at once: the pending mark is written on the way down, not lost.
      await sut.stop();
      expect(markOf(sut.dataDir)).toBe(5);
    } finally {
      await sut.close();
    }
  });
});
