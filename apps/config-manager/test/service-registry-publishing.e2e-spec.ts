import type { ArchivedPayload, JsonSchema, SchemaPayload } from '@app/contracts';
import { generateBoxKeyPair, openSealedSecret } from '@app/crypto';
import { MqttProbe, type ProbeMessage, readEnvelope, verifiesWith } from '@app/testing';
import { startManager, type TestManager } from './support/test-app';

const SERVICE = 'report-worker';
const SCHEMA_TOPIC = `system/schema/${SERVICE}`;
const CONFIG_TOPIC = `system/config/${SERVICE}`;

function reportSchema(maxPages = 100): JsonSchema {
  return {
    type: 'object',
    additionalProperties: false,
    properties: {
      max_pages: { type: 'integer', minimum: 1, maximum: maxPages, default: 10 },
      title: { type: 'string', maxLength: 80, default: 'Weekly' },
    },
  };
}

/** The signed payload of a message, whatever it carries. */
function payloadOf<T>(message: ProbeMessage): T {
  return readEnvelope(message.payload).payload as unknown as T;
}

const isSchema = (schemaVersion: number) => (m: ProbeMessage) =>
  m.topic === SCHEMA_TOPIC &&
  m.payload.length > 0 &&
  payloadOf<SchemaPayload>(m).schemaVersion === schemaVersion;
const isConfig = (version: number) => (m: ProbeMessage) =>
  m.topic === CONFIG_TOPIC &&
  m.payload.length > 0 &&
  payloadOf<{ version: number; archived?: true }>(m).version === version &&
  payloadOf<{ archived?: true }>(m).archived === undefined;

describe('signed schemas and tombstones of registered services on the bus', () => {
  let sut: TestManager;
  let publicKey: string;
  let brokerUrl: string;
  const probes: MqttProbe[] = [];

  const probe = async (): Promise<MqttProbe> => {
    const p = await MqttProbe.connect(brokerUrl, [SCHEMA_TOPIC, CONFIG_TOPIC]);
    probes.push(p);
    return p;
  };

  beforeEach(async () => {
    sut = await startManager({ store: 'sqlite' });
    brokerUrl = await sut.api.brokerUrl();
    publicKey = (await sut.api.keys().expect(200)).body.signing[0].publicKey;
  });

  afterEach(async () => {
    await Promise.all(probes.splice(0).map((p) => p.close()));
    await sut.close();
  });

  it('publishes the schema, signed and retained, before the config that names its hash', async () => {
    const watcher = await probe();
    await sut.api.registerService(SERVICE, { schema: reportSchema() }).expect(201);
    const schema = await watcher.waitFor(isSchema(1), 'schema v1');
    const config = await watcher.waitFor(isConfig(1), 'config v1');
    expect(watcher.messages.indexOf(schema)).toBeLessThan(watcher.messages.indexOf(config));
    expect(verifiesWith(schema.payload, publicKey)).toBe(true);

    const served = (await sut.api.schema(SERVICE).expect(200)).body;
    expect(payloadOf<SchemaPayload>(schema)).toEqual({
      service: SERVICE,
      schemaVersion: 1,
      schemaHash: served.schemaHash,
      schema: reportSchema(),
      issuedAt: expect.any(String),
    });
    expect(readEnvelope(config.payload).payload.schemaHash).toBe(served.schemaHash);

    await sut.api.registerService(SERVICE, { schema: reportSchema(200) }).expect(200);
    const schema2 = await watcher.waitFor(isSchema(2), 'schema v2');
    const config2 = await watcher.waitFor(isConfig(2), 'config v2 (migration)');
    expect(watcher.messages.indexOf(schema2)).toBeLessThan(watcher.messages.indexOf(config2));
    expect(readEnvelope(config2.payload).payload.schemaHash).toBe(
      payloadOf<SchemaPayload>(schema2).schemaHash,
    );

    // A worker that connects later finds both retained.
    const late = await probe();
    await late.waitFor((m) => m.retain && isSchema(2)(m), 'retained schema v2');
    await late.waitFor((m) => m.retain && isConfig(2)(m), 'retained config v2');
  });

  it('archiving leaves a signed tombstone on the config topic and clears the schema; restoring republishes both', async () => {
    await sut.api.registerService(SERVICE, { schema: reportSchema() }).expect(201);
    await sut.api.patchConfig(SERVICE, { max_pages: 20 }).expect(200);
    const watcher = await probe();
    await watcher.waitFor(isConfig(2), 'config v2');
    await sut.api.archiveService(SERVICE).expect(200);

    const tombstone = await watcher.waitFor(
      (m) => m.topic === CONFIG_TOPIC && payloadOf<ArchivedPayload>(m).archived === true,
      'tombstone',
    );
    expect(verifiesWith(tombstone.payload, publicKey)).toBe(true);
    expect(payloadOf<ArchivedPayload>(tombstone)).toEqual({
      service: SERVICE,
      version: 2,
      archived: true,
      issuedAt: expect.any(String),
    });
    await watcher.waitFor(
      (m) => m.topic === SCHEMA_TOPIC && m.payload.length === 0,
      'cleared schema',
    );

    const late = await probe();
    await late.waitFor((m) => m.retain && m.topic === CONFIG_TOPIC, 'retained tombstone');
    expect(late.messages.filter((m) => m.topic === SCHEMA_TOPIC)).toEqual([]);
    expect(payloadOf<ArchivedPayload>(late.messages[0]).archived).toBe(true);

    // A forced republish of an archived service sends its tombstone again, never its config.
    const before = late.messages.length;
    await sut.api.republish(SERVICE).expect(200);
    const again = await late.waitFor(
      (m) => late.messages.indexOf(m) >= before && m.topic === CONFIG_TOPIC,
      'republished tombstone',
    );
    expect(payloadOf<ArchivedPayload>(again).archived).toBe(true);

    await sut.api.registerService(SERVICE, { schema: reportSchema() }).expect(200);
    const restored = await probe();
    await restored.waitFor((m) => m.retain && isSchema(1)(m), 'retained schema after restore');
    await restored.waitFor((m) => m.retain && isConfig(2)(m), 'retained config after restore');
  });

  it('a new recipient key is a version of its own: its secrets are sealed to the new key only', async () => {
    const [first, second] = [generateBoxKeyPair(), generateBoxKeyPair()];
    const withToken = {
      ...reportSchema(),
      properties: {
        ...reportSchema().properties,
        token: { type: 'string', writeOnly: true, maxLength: 100 },
      },
    } as JsonSchema;
    await sut.api
      .registerService(SERVICE, {
        schema: withToken,
        recipientKey: first.publicKey.toString('base64'),
      })
      .expect(201);
    await sut.api.putSecret(SERVICE, 'token', 'tok-rotated-never-in-clear').expect(204);
    const watcher = await probe();
    await watcher.waitFor(isConfig(2), 'config v2 with the secret');

    const rotated = await sut.api
      .registerService(SERVICE, {
        schema: withToken,
        recipientKey: second.publicKey.toString('base64'),
      })
      .expect(200);
    expect(rotated.body).toMatchObject({ version: 3, schemaChanged: false, migrated: false });
    expect((await sut.api.version(SERVICE, 3).expect(200)).body.kind).toBe('secret');
    const envelope = await watcher.waitFor(isConfig(3), 'config v3, re-sealed');
    const sealed = readEnvelope(envelope.payload).payload.secrets.token;
    expect(openSealedSecret(sealed, second.secretKey).toString()).toBe(
      'tok-rotated-never-in-clear',
    );
    expect(() => openSealedSecret(sealed, first.secretKey)).toThrow();
    expect(watcher.rawBytes().includes(Buffer.from('tok-rotated-never-in-clear'))).toBe(false);
  });

  it('a forged or deleted schema on the bus is replaced at once and reported', async () => {
    await sut.api.registerService(SERVICE, { schema: reportSchema() }).expect(201);
    const watcher = await probe();
    await watcher.waitFor(isSchema(1), 'schema v1');
    const attacker = await MqttProbe.connect(brokerUrl);
    probes.push(attacker);

    const forged = Buffer.from(
      JSON.stringify({ ...JSON.parse(watcher.messages[0].payload.toString()), sig: 'AAAA' }),
    );
    for (const bytes of [Buffer.alloc(0), forged]) {
      const before = watcher.messages.length;
      await attacker.publishRetained(SCHEMA_TOPIC, bytes);
      await watcher.waitFor(
        (m) =>
          watcher.messages.indexOf(m) > before &&
          isSchema(1)(m) &&
          verifiesWith(m.payload, publicKey),
        'the authentic schema again',
      );
    }
    const ready = await sut.api.ready();
    const incidents = ready.body.checks.retainedConfigs as unknown as {
      recent: { service: string; channel?: string; problem: string }[];
    };
    expect(incidents.recent.slice(0, 2)).toEqual([
      expect.objectContaining({ service: SERVICE, channel: 'schema', problem: 'signature' }),
      expect.objectContaining({ service: SERVICE, channel: 'schema', problem: 'empty' }),
    ]);
  });
});
