import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  configTopic,
  healthTopic,
  type InstanceStatus,
  REJECTION_REASONS,
  type RejectionReason,
  schemaTopic,
} from '@app/contracts';
import { generateSigningKeyPair } from '@app/crypto';
import { CapturedLogger, MqttProbe, type TestBroker, unreachableBrokerUrl } from '@app/testing';
import {
  BILLING_SYNC,
  BillingSyncConfig,
  billingSyncClassDefinition,
  billingSyncSchema,
  definitionOfSchema,
} from '../test/support/billing-sync';
import { nextEvent } from '../test/support/client-events';
import {
  buildEnvelope,
  buildSchemaEnvelope,
  buildTombstone,
  createTestKeys,
  type TestKeys,
  trustedKeysOf,
} from '../test/support/envelope-factory';
import { startTestBroker } from '../test/support/test-broker';
import { ConfigClient } from './config-client';
import { ConfigClientError, ConfigClientErrorCode } from './config-client.error';
import type { ConfigClientOptions } from './config-client.options';
import { LastKnownGoodStore, type LastKnownGoodFile } from './last-known-good';

// Issue 14: services registered on the manager at runtime, compiled into no SDK. The prefix
// proves the schema topic takes it like the config topic.
const PREFIX = 'tenant-b/';
const INSTANCE = 'b-1';
const CONFIG_TOPIC = PREFIX + configTopic(BILLING_SYNC);
const SCHEMA_TOPIC = PREFIX + schemaTopic(BILLING_SYNC);
const HEALTH_TOPIC = PREFIX + healthTopic(BILLING_SYNC, INSTANCE);
const SECRET = 'billing-token-SECRET-never-in-logs';

// True only when A and B are the same type (not merely assignable either way).
type Equals<A, B> =
  (<G>() => G extends A ? 1 : 2) extends <G>() => G extends B ? 1 : 2 ? true : false;

function totalRejections(counts: Readonly<Record<RejectionReason, number>>): number {
  return REJECTION_REASONS.reduce((sum, reason) => sum + counts[reason], 0);
}

function healthOf(payload: Buffer): InstanceStatus {
  return JSON.parse(payload.toString('utf8')) as InstanceStatus;
}

describe(`${ConfigClient.name} for a service the SDK does not know`, () => {
  let broker: TestBroker;
  let probe: MqttProbe;
  let dir: string;
  let keys: TestKeys;
  let hmacKey: Buffer;
  let logger: CapturedLogger;
  let clients: Array<{ stop(): Promise<void> }>;

  beforeEach(async () => {
    broker = await startTestBroker();
    probe = await MqttProbe.connect(broker.url, [HEALTH_TOPIC]);
    dir = mkdtempSync(join(tmpdir(), 'config-client-registered-'));
    keys = createTestKeys();
    hmacKey = randomBytes(32);
    logger = new CapturedLogger();
    clients = [];
  });

  afterEach(async () => {
    await Promise.all(clients.map((client) => client.stop()));
    await probe.close();
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
    expect(logger.text()).not.toContain(SECRET);
  });

  function lkgPath(): string {
    return join(dir, `${BILLING_SYNC}.${INSTANCE}.lkg.json`);
  }

  function options(overrides: Partial<ConfigClientOptions> = {}): ConfigClientOptions {
    return {
      service: BILLING_SYNC,
      instanceId: INSTANCE,
      mqttUrl: broker.url,
      topicPrefix: PREFIX,
      trustedKeys: trustedKeysOf(keys),
      secretKey: keys.box.secretKey,
      lkgPath: lkgPath(),
      lkgHmacKey: hmacKey,
      initialConfigTimeoutMs: 5000,
      logger,
      ...overrides,
    };
  }

  function track<C extends { stop(): Promise<void> }>(client: C): C {
    clients.push(client);
    return client;
  }

  function createSut(overrides: Partial<ConfigClientOptions> = {}): ConfigClient {
    return track(new ConfigClient(options(overrides)));
  }

  async function waitForHealth(
    match: (health: InstanceStatus) => boolean,
    what: string,
  ): Promise<InstanceStatus> {
    const message = await probe.waitFor(
      (m) => m.topic === HEALTH_TOPIC && match(healthOf(m.payload)),
      what,
    );
    return healthOf(message.payload);
  }

  describe('given a configuration class', () => {
    it('is a ConfigClient of that class and validates with it', async () => {
      const definition = billingSyncClassDefinition();
      await probe.publish(
        CONFIG_TOPIC,
        buildEnvelope(keys, {
          version: 1,
          definition,
          config: { batch: { size: 7 }, regions: ['us'] },
          secrets: { token: SECRET },
        }),
      );

      const sut = track(new ConfigClient({ ...options(), schema: BillingSyncConfig }));
      // Type-level: tsc --noEmit fails unless T is inferred from the class.
      const inferred: Equals<typeof sut, ConfigClient<BillingSyncConfig>> = true;
      await sut.start();
      const run = sut.beginRun();
      const size: number = run.config.batch.size;

      expect(inferred).toBe(true);
      expect(size).toBe(7);
      expect(run).toMatchObject({ version: 1, source: 'broker', schemaDrift: false });
      expect(run.config).toEqual({ batch: { size: 7 }, regions: ['us'], token: SECRET });

      const rejected = nextEvent(sut, 'rejected');
      await probe.publish(
        CONFIG_TOPIC,
        buildEnvelope(keys, { version: 2, definition, config: { batch: { size: 0 } } }),
      );
      expect(await rejected).toMatchObject({ reason: 'schema', version: 2 });
      expect(sut.beginRun().version).toBe(1);
    });
  });

  describe('given a JSON Schema', () => {
    it('validates with it, and reports schemaDrift for a version built for another schema', async () => {
      const schema = billingSyncSchema();
      const definition = definitionOfSchema(schema);
      await probe.publish(
        CONFIG_TOPIC,
        buildEnvelope(keys, { version: 1, definition, config: { regions: ['ap'] } }),
      );

      const sut = createSut({ schema });
      await sut.start();

      expect(sut.beginRun()).toMatchObject({
        version: 1,
        schemaDrift: false,
        config: { batch: { size: 50, min_size: 10 }, regions: ['ap'], token: '' },
      });
      const accepted = nextEvent(sut, 'accepted');
      await probe.publish(
        CONFIG_TOPIC,
        buildEnvelope(keys, { version: 2, definition, schemaHash: `sha256:${'b'.repeat(64)}` }),
      );
      expect(await accepted).toEqual({ version: 2, schemaDrift: true, source: 'broker' });
      const rejected = nextEvent(sut, 'rejected');
      await probe.publish(
        CONFIG_TOPIC,
        buildEnvelope(keys, {
          version: 3,
          definition,
          config: { batch: { size: 5, min_size: 6 } },
        }),
      );
      expect(await rejected).toMatchObject({ reason: 'schema', version: 3 });
    });

    it('refuses a schema the registration would refuse, naming the option and the problems', () => {
      let caught: unknown;
      try {
        createSut({
          schema: billingSyncSchema({ properties: { email: { type: 'string', format: 'email' } } }),
        });
      } catch (error) {
        caught = error;
      }

      expect(caught).toBeInstanceOf(ConfigClientError);
      expect(caught).toMatchObject({
        code: ConfigClientErrorCode.InvalidOption,
        problems: ['schema'],
        message: expect.stringMatching(/^schema is not a usable JSON Schema .*"format"/) as unknown,
      });
    });
  });

  describe('given no schema: the signed schema', () => {
    const schema = billingSyncSchema();
    const definition = definitionOfSchema(schema);
    const config = { batch: { size: 20, min_size: 5 }, regions: ['eu', 'us'] };

    it('applies a signed config validated with the signed schema, and rejects one that breaks it (schema)', async () => {
      await probe.publish(SCHEMA_TOPIC, buildSchemaEnvelope(keys, { definition }));
      await probe.publish(
        CONFIG_TOPIC,
        buildEnvelope(keys, { version: 1, definition, config, secrets: { token: SECRET } }),
      );

      const sut = createSut();
      await sut.start();

      expect(sut.beginRun()).toMatchObject({
        version: 1,
        source: 'broker',
        schemaDrift: false,
        config: { ...config, token: SECRET },
      });
      expect(sut.status()).toMatchObject({
        status: 'online',
        appliedVersion: 1,
        schemaDrift: false,
      });

      const rejected = nextEvent(sut, 'rejected');
      await probe.publish(
        CONFIG_TOPIC,
        buildEnvelope(keys, {
          version: 2,
          definition,
          config: { batch: { size: 5, min_size: 6 } },
        }),
      );
      expect(await rejected).toMatchObject({ reason: 'schema', version: 2 });
      expect(sut.stats().rejected.schema).toBe(1);
      expect(sut.beginRun().version).toBe(1);
      const health = await waitForHealth(
        (h) => h.lastRejection?.reason === 'schema',
        'health with the schema rejection',
      );
      expect(health).toMatchObject({ appliedVersion: 1, lastRejection: { version: 2 } });
    });

    it.each<[string, RejectionReason, () => Buffer]>([
      [
        'signed by a key it does not trust',
        'unknown-key',
        () => buildSchemaEnvelope(createTestKeys('rogue'), { definition }),
      ],
      [
        'whose hash does not match its schema',
        'schema',
        // A schema the config below would pass, under the hash of the genuine one.
        () => buildSchemaEnvelope(keys, { definition, schema: billingSyncSchema({ title: 'x' }) }),
      ],
    ])(
      'refuses a schema envelope %s (%s) and never validates a config with it',
      async (_case, reason, build) => {
        await probe.publish(SCHEMA_TOPIC, build());
        await probe.publish(CONFIG_TOPIC, buildEnvelope(keys, { version: 1, definition, config }));
        const sut = createSut({ initialConfigTimeoutMs: 300 });
        const refused = nextEvent(sut, 'schemaRejected');
        const pending = nextEvent(sut, 'pending');

        await sut.start();

        expect(await refused).toMatchObject({ reason });
        expect(await pending).toEqual({ version: 1, schemaHash: definition.schemaHash });
        const run = sut.beginRun();
        expect(run).toMatchObject({ version: 0, source: 'defaults' });
        // No schema of its own and no verified signed one: no defaults either.
        expect(run.config).toEqual({});
        expect(sut.stats()).toMatchObject({ accepted: 0 });
        // A refused schema is not a config rejection: health counts config messages only.
        expect(totalRejections(sut.stats().rejected)).toBe(0);
        expect(sut.status()).toMatchObject({ status: 'degraded', appliedVersion: 0 });
        expect(logger.text()).toMatch(
          new RegExp(`Refused a schema message on ${SCHEMA_TOPIC} \\(${reason}`),
        );

        // The genuine schema releases the config that waited for it.
        const accepted = nextEvent(sut, 'accepted');
        await probe.publish(SCHEMA_TOPIC, buildSchemaEnvelope(keys, { definition }));
        expect((await accepted).version).toBe(1);
        expect(sut.beginRun().config).toEqual({ ...config, token: '' });
      },
    );

    it('applies a config that arrived before its schema once the schema arrives', async () => {
      await probe.publish(CONFIG_TOPIC, buildEnvelope(keys, { version: 4, definition, config }));
      const sut = createSut();
      const pending = nextEvent(sut, 'pending');

      const started = sut.start();
      expect(await pending).toEqual({ version: 4, schemaHash: definition.schemaHash });
      const accepted = nextEvent(sut, 'accepted');
      await probe.publish(SCHEMA_TOPIC, buildSchemaEnvelope(keys, { definition }));
      await started;

      expect(await accepted).toEqual({ version: 4, schemaDrift: false, source: 'broker' });
      expect(sut.beginRun()).toMatchObject({ version: 4, source: 'broker', config });
      expect(sut.status()).toMatchObject({ status: 'online', appliedVersion: 4 });
      expect(totalRejections(sut.stats().rejected)).toBe(0);
    });

    it('runs on the signed schema defaults until a config arrives', async () => {
      await probe.publish(SCHEMA_TOPIC, buildSchemaEnvelope(keys, { definition }));
      const sut = createSut({ initialConfigTimeoutMs: 200 });
      const verified = nextEvent(sut, 'schemaAccepted');

      await sut.start();

      expect(await verified).toEqual({
        schemaVersion: 1,
        schemaHash: definition.schemaHash,
        secretPaths: ['token'],
        source: 'broker',
      });
      expect(sut.beginRun()).toMatchObject({
        version: 0,
        source: 'defaults',
        config: { batch: { size: 50, min_size: 10 }, regions: ['eu'], token: '' },
      });
    });

    describe('last-known-good', () => {
      /** Has a first client accept `version`; returns the schema envelope it was validated with. */
      async function acceptVersion(version: number): Promise<Buffer> {
        const schemaEnvelope = buildSchemaEnvelope(keys, { definition });
        await probe.publish(SCHEMA_TOPIC, schemaEnvelope);
        await probe.publish(
          CONFIG_TOPIC,
          buildEnvelope(keys, { version, definition, config, secrets: { token: SECRET } }),
        );
        const first = createSut();
        await first.start();
        expect(first.status().appliedVersion).toBe(version);
        await first.stop();
        return schemaEnvelope;
      }

      it('saves the signed schema beside the config (format 3) and restarts from both without the broker', async () => {
        const schemaEnvelope = await acceptVersion(3);
        const file = JSON.parse(readFileSync(lkgPath(), 'utf8')) as LastKnownGoodFile;
        expect(file).toMatchObject({ format: 3, instanceId: INSTANCE });
        expect(file.schemaEnvelope).toBe(schemaEnvelope.toString('base64'));

        const sut = createSut({ mqttUrl: await unreachableBrokerUrl() });
        const verified = nextEvent(sut, 'schemaAccepted');
        await sut.start();

        expect(await verified).toMatchObject({ schemaHash: definition.schemaHash, source: 'lkg' });
        expect(sut.beginRun()).toMatchObject({
          version: 3,
          source: 'lkg',
          config: { ...config, token: SECRET },
        });
        expect(sut.status()).toMatchObject({ status: 'degraded', appliedVersion: 3 });
      });

      it('refuses a file whose schema envelope no longer verifies, even with a valid HMAC', async () => {
        const forgedSchema = buildSchemaEnvelope(
          { ...keys, signing: generateSigningKeyPair() },
          { definition },
        );
        await new LastKnownGoodStore(lkgPath(), hmacKey, INSTANCE).save(
          buildEnvelope(keys, { version: 3, definition, config }),
          BILLING_SYNC,
          forgedSchema,
        );

        const sut = createSut({ mqttUrl: await unreachableBrokerUrl() });
        await sut.start();

        expect(sut.beginRun()).toMatchObject({ version: 0, source: 'defaults' });
        expect(logger.text()).toMatch(
          /Ignoring last-known-good file .*its signed schema fails verification \(signature/,
        );
      });

      it('refuses a file without a signed schema: its config cannot be validated', async () => {
        await new LastKnownGoodStore(lkgPath(), hmacKey, INSTANCE).save(
          buildEnvelope(keys, { version: 3, definition, config }),
          BILLING_SYNC,
        );

        const sut = createSut({ mqttUrl: await unreachableBrokerUrl() });
        await sut.start();

        expect(sut.beginRun()).toMatchObject({ version: 0, source: 'defaults' });
        expect(logger.text()).toMatch(/Ignoring last-known-good file .*holds no signed schema/);
      });
    });

    describe('archived (tombstone)', () => {
      it('takes a verified tombstone as neither a version nor a rejection: a warning, an event, status kept', async () => {
        await probe.publish(SCHEMA_TOPIC, buildSchemaEnvelope(keys, { definition }));
        await probe.publish(CONFIG_TOPIC, buildEnvelope(keys, { version: 2, definition, config }));
        const sut = createSut();
        await sut.start();
        const before = sut.status();

        const archived = nextEvent(sut, 'archived');
        await probe.publish(
          CONFIG_TOPIC,
          buildTombstone(keys, { service: BILLING_SYNC, version: 2 }),
        );

        expect(await archived).toEqual({
          version: 2,
          issuedAt: expect.any(String),
          at: expect.any(String),
        });
        expect(sut.stats()).toMatchObject({ accepted: 1, duplicates: 0 });
        expect(totalRejections(sut.stats().rejected)).toBe(0);
        expect(sut.status()).toMatchObject({
          status: before.status,
          appliedVersion: 2,
          stagedVersion: 2,
          source: 'broker',
        });
        expect(sut.status().lastRejection).toBeUndefined();
        expect(sut.beginRun()).toMatchObject({ version: 2, config });
        expect(logger.lines).toContainEqual({
          level: 'warn',
          message: expect.stringMatching(/archived billing-sync .*runs continue on version 2/i),
        });

        // An unverified tombstone is rejected like any message.
        const rejected = nextEvent(sut, 'rejected');
        await probe.publish(
          CONFIG_TOPIC,
          buildTombstone(keys, {
            service: BILLING_SYNC,
            version: 2,
            signingSecretKey: generateSigningKeyPair().secretKey,
          }),
        );
        expect((await rejected).reason).toBe('signature');
      });

      it('starts at once on a retained tombstone instead of waiting for a config', async () => {
        await probe.publish(
          CONFIG_TOPIC,
          buildTombstone(keys, { service: BILLING_SYNC, version: 6 }),
        );
        // Far longer than the test's own timeout: only the tombstone can end start() in time.
        const sut = createSut({ initialConfigTimeoutMs: 60_000 });
        const archived = nextEvent(sut, 'archived');

        await sut.start();

        expect((await archived).version).toBe(6);
        expect(sut.beginRun()).toMatchObject({ version: 0, source: 'defaults' });
        expect(sut.status()).toMatchObject({ status: 'degraded', appliedVersion: 0 });
      }, 10_000);
    });
  });
});
