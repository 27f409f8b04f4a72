import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { connectAsync } from 'mqtt';
import {
  candidateTopic,
  configTopic,
  defaultConfig,
  healthTopic,
  type JsonSchema,
  MAX_ENVELOPE_BYTES,
  MAX_MQTT_PACKET_BYTES,
  type MatchingConfig,
} from '@app/contracts';
import { generateBoxKeyPair, generateSigningKeyPair } from '@app/crypto';
import { CapturedLogger, MqttProbe, type TestBroker, unreachableBrokerUrl } from '@app/testing';
import {
  buildCandidateEnvelope,
  buildEnvelope,
  configWithModel,
  createTestKeys,
  dedupWorkerDefinition,
  type TestKeys,
  trustedKeysOf,
} from '../test/support/envelope-factory';
import { nextEvent } from '../test/support/client-events';
import { startTestBroker } from '../test/support/test-broker';
import { ConfigClient } from './config-client';
import type { ConfigClientOptions } from './config-client.options';
import { ConfigClientError, ConfigClientErrorCode } from './config-client.error';
import { type InstanceStatus, REJECTION_REASONS, type RejectionReason } from '@app/contracts';
import { LastKnownGoodStore } from './last-known-good';

const SERVICE = 'dedup-worker';
const INSTANCE = 'w-1';
const CONFIG_TOPIC = configTopic(SERVICE);
const CANDIDATE_TOPIC = candidateTopic(SERVICE);
const HEALTH_TOPIC = healthTopic(SERVICE, INSTANCE);
const SECRET = 'sk-live-SECRET-value-never-in-logs';

function healthOf(payload: Buffer): InstanceStatus {
  return JSON.parse(payload.toString('utf8')) as InstanceStatus;
}

function totalRejections(counts: Readonly<Record<RejectionReason, number>>): number {
  return REJECTION_REASONS.reduce((sum, reason) => sum + counts[reason], 0);
}

describe(ConfigClient.name, () => {
  let broker: TestBroker;
  let probe: MqttProbe;
  let dir: string;
  let keys: TestKeys;
  let hmacKey: Buffer;
  let logger: CapturedLogger;
  let clients: Array<Pick<ConfigClient, 'stop'>>;

  beforeEach(async () => {
    broker = await startTestBroker();
    probe = await MqttProbe.connect(broker.url, [HEALTH_TOPIC]);
    dir = mkdtempSync(join(tmpdir(), 'config-client-'));
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
    // Whatever a test did, no secret may ever have reached a log line.
    expect(logger.text()).not.toContain(SECRET);
  });

  function lkgPath(): string {
    return join(dir, 'lkg', `${SERVICE}.${INSTANCE}.lkg.json`);
  }

  function options(overrides: Partial<ConfigClientOptions> = {}): ConfigClientOptions {
    return {
      service: SERVICE,
      instanceId: INSTANCE,
      mqttUrl: broker.url,
      trustedKeys: trustedKeysOf(keys),
      secretKey: keys.box.secretKey,
      lkgPath: lkgPath(),
      lkgHmacKey: hmacKey,
      initialConfigTimeoutMs: 5000,
      logger,
      ...overrides,
    };
  }

  function createSut(overrides: Partial<ConfigClientOptions> = {}): ConfigClient<MatchingConfig> {
    const sut = new ConfigClient<MatchingConfig>(options(overrides));
    clients.push(sut);
    return sut;
  }

  async function startSut(
    overrides: Partial<ConfigClientOptions> = {},
  ): Promise<ConfigClient<MatchingConfig>> {
    const sut = createSut(overrides);
    await sut.start();
    return sut;
  }

  async function publishVersion(version: number, model = `model-${version}`): Promise<void> {
    await probe.publish(
      CONFIG_TOPIC,
      buildEnvelope(keys, { version, config: configWithModel(model) }),
    );
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

  describe('starting', () => {
    it('starts online on the retained config, secrets opened, and reports it', async () => {
      await probe.publish(
        CONFIG_TOPIC,
        buildEnvelope(keys, {
          version: 4,
          config: configWithModel('model-4'),
          secrets: { 'ai.api_key': SECRET },
        }),
      );

      const sut = await startSut();
      const run = sut.beginRun();

      expect(run).toMatchObject({ version: 4, source: 'broker', schemaDrift: false });
      expect(run.config.ai).toMatchObject({ model: 'model-4', api_key: SECRET });
      expect(sut.status()).toMatchObject({
        status: 'online',
        appliedVersion: 4,
        stagedVersion: 4,
        lastRunVersion: 4,
      });
      await waitForHealth(
        (h) => h.status === 'online' && h.appliedVersion === 4 && h.lastRunVersion === 4,
        'online health for version 4',
      );
    });

    it('without any config, runs degraded on the schema defaults and goes online when one arrives', async () => {
      const sut = await startSut({ initialConfigTimeoutMs: 200 });

      const run = sut.beginRun();
      expect(run).toMatchObject({ version: 0, source: 'defaults' });
      expect(run.config).toEqual({
        ...defaultConfig(dedupWorkerDefinition()),
        ai: { ...(defaultConfig(dedupWorkerDefinition()).ai as object), api_key: '' },
      });
      expect(sut.status()).toMatchObject({ status: 'degraded', source: 'defaults' });
      await waitForHealth((h) => h.status === 'degraded', 'degraded health');

      const accepted = nextEvent(sut, 'accepted');
      await publishVersion(1);
      expect(await accepted).toEqual({ version: 1, schemaDrift: false, source: 'broker' });

      expect(sut.status()).toMatchObject({ status: 'online', appliedVersion: 1, source: 'broker' });
      expect(sut.beginRun().version).toBe(1);
      await waitForHealth((h) => h.status === 'online', 'online health');
    });

    it('refuses to start a client that was stopped first', async () => {
      const sut = createSut();
      await sut.stop();

      await expect(sut.start()).rejects.toMatchObject({ code: ConfigClientErrorCode.Stopped });
    });

    it('refuses to begin a run before start()', () => {
      const sut = createSut();

      expect(() => sut.beginRun()).toThrow(
        expect.objectContaining({ code: ConfigClientErrorCode.NotStarted }),
      );
    });
  });

  describe('rejecting', () => {
    const otherKeys = (): TestKeys => ({ ...keys, signing: generateSigningKeyPair() });

    it.each<[string, RejectionReason, (k: TestKeys) => Buffer]>([
      [
        'a bad signature',
        'signature',
        (k) =>
          buildEnvelope(k, { version: 3, signingSecretKey: generateSigningKeyPair().secretKey }),
      ],
      [
        'an unknown kid',
        'unknown-key',
        (k) => buildEnvelope({ ...otherKeys(), kid: 'rogue', box: k.box }, { version: 3 }),
      ],
      [
        'an unsupported alg',
        'unsupported-alg',
        (k) => buildEnvelope(k, { version: 3, alg: 'RS256' }),
      ],
      [
        'a payload for another service',
        'service',
        (k) => buildEnvelope(k, { version: 3, service: 'billing-worker' }),
      ],
      ['an older version replayed', 'stale', (k) => buildEnvelope(k, { version: 1 })],
      [
        'a schema-invalid config',
        'schema',
        (k) => buildEnvelope(k, { version: 3, config: { thresholds: { high: 0.2, low: 0.5 } } }),
      ],
      [
        'a secret sealed to another key',
        'secret',
        (k) =>
          buildEnvelope(k, {
            version: 3,
            secrets: { 'ai.api_key': SECRET },
            recipient: generateBoxKeyPair().publicKey,
          }),
      ],
      [
        'a truncated envelope',
        'malformed',
        (k) => buildEnvelope(k, { version: 3 }).subarray(0, 40),
      ],
      ['non-JSON', 'malformed', () => Buffer.from('definitely not json')],
      [
        // Small enough to pass the packet size guard: the verifier refuses it (rule 0).
        'an envelope one byte over the limit',
        'oversized',
        (k) => {
          const envelope = buildEnvelope(k, { version: 3 });
          return Buffer.concat([
            envelope,
            Buffer.alloc(MAX_ENVELOPE_BYTES + 1 - envelope.length, 0x20),
          ]);
        },
      ],
    ])('rejects %s (%s), keeps its config, counts and reports it', async (_case, reason, build) => {
      await publishVersion(2);
      const sut = await startSut();
      const run = sut.beginRun();
      expect(run.version).toBe(2);

      const rejected = nextEvent(sut, 'rejected');
      await probe.publish(CONFIG_TOPIC, build(keys));
      const event = await rejected;

      expect(event.reason).toBe(reason);
      expect(event.detail).not.toContain(SECRET);
      expect(sut.stats().rejected[reason]).toBe(1);
      expect(totalRejections(sut.stats().rejected)).toBe(1);
      expect(sut.beginRun()).toMatchObject({ version: 2, source: 'broker' });
      const health = await waitForHealth(
        (h) => h.lastRejection?.reason === reason,
        `health reporting the ${reason} rejection`,
      );
      expect(health).toMatchObject({ status: 'online', appliedVersion: 2 });
      expect(health.rejections[reason]).toBe(1);

      // Still running: the next valid version is applied.
      const accepted = nextEvent(sut, 'accepted');
      await publishVersion(3);
      expect((await accepted).version).toBe(3);
      expect(sut.beginRun().version).toBe(3);
    });

    it('drops a 5 MB retained message unread (oversized) and still applies the next version', async () => {
      await publishVersion(2);
      await probe.publish(CONFIG_TOPIC, Buffer.alloc(5 * 1024 * 1024, 0x7b));
      const sut = createSut();
      const rejected = nextEvent(sut, 'rejected');

      await sut.start();
      const event = await rejected;

      expect(event).toEqual({
        reason: 'oversized',
        detail: expect.stringMatching(
          new RegExp(
            `^the MQTT packet is \\d+ bytes, more than the limit of ${MAX_MQTT_PACKET_BYTES}; dropped unread$`,
          ),
        ),
        at: expect.any(String),
      });
      expect(sut.stats().rejected.oversized).toBe(1);
      expect(sut.status()).toMatchObject({ status: 'degraded', appliedVersion: 0 });
      const health = await waitForHealth(
        (h) => h.lastRejection?.reason === 'oversized',
        'health reporting the oversized message',
      );
      expect(health.lastRejection).toEqual({ reason: 'oversized', at: event.at });
      expect(health.rejections.oversized).toBe(1);
      expect(logger.lines).toContainEqual({
        level: 'warn',
        message: expect.stringContaining(
          `Rejected a config message on ${CONFIG_TOPIC} (oversized)`,
        ),
      });
      const accepted = nextEvent(sut, 'accepted');
      await publishVersion(3);
      expect((await accepted).version).toBe(3);
      expect(sut.status()).toMatchObject({ status: 'online', appliedVersion: 3 });
    });

    it('ignores the same version again silently: a duplicate is not a rejection', async () => {
      await publishVersion(2);
      const sut = await startSut();
      const rejections: unknown[] = [];
      sut.on('rejected', (event) => rejections.push(event));

      await publishVersion(2);
      const accepted = nextEvent(sut, 'accepted');
      await publishVersion(3);
      await accepted;

      expect(rejections).toEqual([]);
      expect(sut.stats()).toMatchObject({ accepted: 2, duplicates: 1 });
      expect(totalRejections(sut.stats().rejected)).toBe(0);
      expect(sut.status().lastRejection).toBeUndefined();
    });

    it('applies a valid marker after 1,000 random malformed envelopes, and nothing before it', async () => {
      await publishVersion(1);
      const sut = await startSut();
      const accepted: number[] = [];
      sut.on('accepted', (event) => accepted.push(event.version));
      const valid = buildEnvelope(keys, { version: 5 });
      const garbage = fc.sample(
        fc.oneof(
          fc.uint8Array({ minLength: 1, maxLength: 512 }).map((bytes) => Buffer.from(bytes)),
          fc.json().map((text) => Buffer.from(text)),
          fc.integer({ min: 0, max: valid.length - 1 }).map((n) => valid.subarray(0, n)),
          fc
            .record({ index: fc.nat(valid.length - 1), mask: fc.integer({ min: 1, max: 255 }) })
            .map(({ index, mask }) => {
              const copy = Buffer.from(valid);
              copy[index] ^= mask;
              return copy;
            }),
        ),
        { numRuns: 1000 },
      );

      // One connection keeps publish order, so the marker arrives after all of them.
      await Promise.all(garbage.map((bytes) => probe.publish(CONFIG_TOPIC, bytes, false)));
      const marker = nextEvent(sut, 'accepted', (event) => event.version === 100, 15000);
      await publishVersion(100, 'marker');
      await marker;

      expect(accepted).toEqual([100]);
      expect(totalRejections(sut.stats().rejected)).toBe(1000);
      const run = sut.beginRun();
      expect(run.version).toBe(100);
      expect(run.config.ai.model).toBe('marker');
    }, 30000);
  });

  describe('staging between runs', () => {
    it('keeps one version for a whole run while five newer ones arrive; the next run gets the newest', async () => {
      await publishVersion(1);
      const sut = await startSut();
      const run = sut.beginRun();
      const before = JSON.stringify(run.config);

      const sixth = nextEvent(sut, 'accepted', (event) => event.version === 6);
      for (const version of [2, 3, 4, 5, 6]) {
        await publishVersion(version);
      }
      await sixth;

      expect(run.version).toBe(1);
      expect(JSON.stringify(run.config)).toBe(before);
      expect(Object.isFrozen(run.config.ai)).toBe(true);
      expect(() => {
        (run.config.ai as { model: string }).model = 'changed';
      }).toThrow(TypeError);
      expect(sut.current().version).toBe(1);
      expect(sut.status()).toMatchObject({
        appliedVersion: 6,
        stagedVersion: 6,
        lastRunVersion: 1,
      });

      const next = sut.beginRun();
      expect(next.version).toBe(6);
      expect(next.config.ai.model).toBe('model-6');
      expect(run.config.ai.model).toBe('model-1');
      await waitForHealth((h) => h.lastRunVersion === 6, 'health with lastRunVersion 6');
    });
  });

  describe('last-known-good', () => {
    async function acceptVersion(version: number, secret?: string): Promise<void> {
      // No config is retained yet, so do not wait for one.
      const first = await startSut({ initialConfigTimeoutMs: 50 });
      const accepted = nextEvent(first, 'accepted', (event) => event.version === version);
      await probe.publish(
        CONFIG_TOPIC,
        buildEnvelope(keys, {
          version,
          config: configWithModel(`model-${version}`),
          secrets: secret === undefined ? {} : { 'ai.api_key': secret },
        }),
      );
      await accepted;
      await first.stop();
    }

    it('persists the accepted envelope atomically, without any plaintext secret', async () => {
      await acceptVersion(3, SECRET);

      const text = readFileSync(lkgPath(), 'utf8');
      expect(readdirSync(join(dir, 'lkg'))).toEqual([`${SERVICE}.${INSTANCE}.lkg.json`]);
      expect(text).not.toContain(SECRET);
      const envelope = Buffer.from((JSON.parse(text) as { envelope: string }).envelope, 'base64');
      const payloadB64 = (JSON.parse(envelope.toString()) as { payload: string }).payload;
      expect(Buffer.from(payloadB64, 'base64').toString()).not.toContain(SECRET);
      expect(envelope.toString()).not.toContain(Buffer.from(SECRET).toString('base64'));
    });

    it('reports a version applied only once its last-known-good file holds it', async () => {
      const savedVersion = (): number | undefined => {
        try {
          const file = JSON.parse(readFileSync(lkgPath(), 'utf8')) as { envelope: string };
          const envelope = JSON.parse(Buffer.from(file.envelope, 'base64').toString('utf8')) as {
            payload: string;
          };
          return (
            JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as {
              version: number;
            }
          ).version;
        } catch {
          return undefined;
        }
      };
      // Every health report the broker relays, with what the file on disk held when it arrived.
      const watcher = await connectAsync(broker.url);
      const seen: Array<{ applied: number; onDisk: number | undefined }> = [];
      let marked = false;
      let changed: () => void = () => undefined;
      watcher.on('message', (topic, payload) => {
        if (topic === HEALTH_TOPIC && payload.length > 0) {
          seen.push({ applied: healthOf(payload).appliedVersion ?? 0, onDisk: savedVersion() });
        }
        if (topic === 'test/marker') marked = true;
        changed();
      });
      const until = (done: () => boolean, what: string): Promise<void> =>
        new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no ${what} within 5 s`)), 5000);
          changed = () => {
            if (done()) {
              clearTimeout(timer);
              resolve();
            }
          };
          changed();
        });
      await watcher.subscribeAsync([HEALTH_TOPIC, 'test/marker'], { qos: 1 });
      // The save of version 1 is held until the test lets it go.
      let release: () => void = () => undefined;
      const held = new Promise<void>((resolve) => (release = resolve));
      const save = LastKnownGoodStore.prototype.save;
      const spy = jest
        .spyOn(LastKnownGoodStore.prototype, 'save')
        .mockImplementation(async function (this: LastKnownGoodStore, ...args) {
          await held;
          return save.apply(this, args);
        });
      try {
        const sut = await startSut({ initialConfigTimeoutMs: 200 });
        const accepted = nextEvent(sut, 'accepted');
        await publishVersion(1);
        await accepted;
        sut.beginRun();
        // A marker published after the acceptance: once it is through, a report sent at
        // acceptance would have been relayed too.
        await probe.publish('test/marker', 'after-accept', false);
        await until(() => marked, 'marker');
        expect(seen.filter((s) => s.applied === 1)).toEqual([]);
        expect(sut.status().appliedVersion).toBe(1);

        release();
        await until(() => seen.some((s) => s.applied === 1), 'applied report of version 1');
        const reports = seen.filter((s) => s.applied === 1);
        expect(reports.length).toBeGreaterThan(0);
        expect(reports.every((s) => s.onDisk === 1)).toBe(true);
      } finally {
        spy.mockRestore();
        release();
        await watcher.endAsync();
      }
    });

    it('restarts from it while the broker is down: degraded, same version, secret opened', async () => {
      await acceptVersion(3, SECRET);

      const sut = await startSut({ mqttUrl: await unreachableBrokerUrl() });

      expect(sut.status()).toMatchObject({
        status: 'degraded',
        appliedVersion: 3,
        source: 'lkg',
      });
      const run = sut.beginRun();
      expect(run).toMatchObject({ version: 3, source: 'lkg' });
      expect(run.config.ai).toMatchObject({ model: 'model-3', api_key: SECRET });
      expect(logger.text()).toMatch(/Running degraded on the last-known-good .* version 3/);
    });

    it('goes online when the broker confirms the last-known-good version (a duplicate)', async () => {
      await acceptVersion(3);

      const sut = await startSut();

      expect(sut.status()).toMatchObject({ status: 'online', appliedVersion: 3 });
      expect(sut.stats()).toMatchObject({ accepted: 0, duplicates: 1 });
    });

    it.each<[string, (path: string) => void]>([
      [
        'tampered',
        (path) => {
          const file = JSON.parse(readFileSync(path, 'utf8')) as { envelope: string };
          const envelope = Buffer.from(file.envelope, 'base64');
          envelope[envelope.length - 3] ^= 1;
          writeFileSync(path, JSON.stringify({ ...file, envelope: envelope.toString('base64') }));
        },
      ],
      ['truncated', (path) => writeFileSync(path, readFileSync(path, 'utf8').slice(0, 100))],
    ])('refuses a %s file, logs it, and runs degraded on defaults', async (_case, damage) => {
      await acceptVersion(3);
      damage(lkgPath());
      const contents = readFileSync(lkgPath(), 'utf8');

      const sut = await startSut({ mqttUrl: await unreachableBrokerUrl() });

      expect(sut.beginRun()).toMatchObject({ version: 0, source: 'defaults' });
      expect(sut.status()).toMatchObject({ status: 'degraded', appliedVersion: 0 });
      const refusal = logger.lines.find(
        (line) => line.level === 'error' && line.message.includes('Ignoring last-known-good file'),
      );
      expect(refusal?.message).toContain(lkgPath());
      expect(logger.text()).not.toContain(contents.slice(20, 60));
    });

    it('refuses a file with a valid HMAC whose envelope no longer verifies', async () => {
      const forged = buildEnvelope({ ...keys, signing: generateSigningKeyPair() }, { version: 9 });
      await new LastKnownGoodStore(lkgPath(), hmacKey, INSTANCE).save(forged, SERVICE);

      const sut = await startSut({ mqttUrl: await unreachableBrokerUrl() });

      expect(sut.beginRun()).toMatchObject({ version: 0, source: 'defaults' });
      expect(logger.text()).toMatch(
        /Ignoring last-known-good file .*fails verification \(signature/,
      );
    });

    it('rejects an older version replayed after a restart as stale', async () => {
      await acceptVersion(5);
      await publishVersion(3);

      const sut = await startSut();

      expect(sut.stats().rejected.stale).toBe(1);
      expect(sut.beginRun()).toMatchObject({ version: 5, source: 'lkg' });
      expect(sut.status()).toMatchObject({
        status: 'degraded',
        appliedVersion: 5,
        lastRejection: { reason: 'stale', version: 3 },
      });
    });
  });

  describe('rollouts: the candidate topic', () => {
    async function publishCandidate(
      version: number,
      instances: string[],
      spec: { stableVersion?: number; config?: Record<string, unknown> } = {},
    ): Promise<void> {
      await probe.publish(
        CANDIDATE_TOPIC,
        buildCandidateEnvelope(keys, {
          version,
          config: spec.config ?? configWithModel(`canary-${version}`),
          rollout: {
            id: 'r-1',
            step: 1,
            stableVersion: spec.stableVersion ?? version - 1,
            instances,
          },
        }),
      );
    }

    it('stages a retained candidate that names this instance, over the stable version, and reports it', async () => {
      await publishVersion(2);
      await publishCandidate(3, ['w-9', INSTANCE]);
      const sut = createSut();
      const accepted = nextEvent(sut, 'accepted', (event) => event.version === 3);

      await sut.start();

      expect(await accepted).toEqual({
        version: 3,
        schemaDrift: false,
        source: 'broker',
        rollout: { id: 'r-1', step: 1, stableVersion: 2 },
      });
      const run = sut.beginRun();
      expect(run.version).toBe(3);
      expect(run.config.ai.model).toBe('canary-3');
      await waitForHealth(
        (h) => h.status === 'online' && h.appliedVersion === 3 && h.lastRunVersion === 3,
        'health on the candidate',
      );
      expect(totalRejections(sut.stats().rejected)).toBe(0);
      expect(logger.text()).toMatch(/Accepted dedup-worker candidate version 3 of rollout r-1/);
    });

    it('leaves a candidate for other instances alone: no version, no rejection, no status change', async () => {
      await publishVersion(2);
      const sut = await startSut();
      const statuses: InstanceStatus[] = [];
      sut.on('status', (status) => statuses.push(status));

      await publishCandidate(3, ['w-2', 'w-3']);
      // A stable version after it: once it is applied, the candidate was handled before it.
      const accepted = nextEvent(sut, 'accepted', (event) => event.version === 4);
      await publishVersion(4);
      await accepted;

      expect(sut.stats()).toMatchObject({ accepted: 2 });
      expect(totalRejections(sut.stats().rejected)).toBe(0);
      expect(statuses.map((status) => status.appliedVersion)).toEqual([4]);
      expect(logger.lines).toContainEqual({
        level: 'debug',
        message: `Ignoring candidate version 3 of rollout r-1: its cohort does not name ${INSTANCE}`,
      });
    });

    it('ignores the stable version its candidate replaced, silently, but still refuses older ones', async () => {
      await publishVersion(2);
      const sut = await startSut();
      const accepted = nextEvent(sut, 'accepted', (event) => event.version === 3);
      await publishCandidate(3, [INSTANCE]);
      await accepted;
      const rejected = nextEvent(sut, 'rejected');

      // A reconnect delivers the stable topic's retained version 2 again, then a replay of 1.
      await publishVersion(2);
      await probe.publish(CONFIG_TOPIC, buildEnvelope(keys, { version: 1 }), false);

      expect(await rejected).toMatchObject({ reason: 'stale', version: 1 });
      expect(sut.stats().rejected.stale).toBe(1);
      expect(totalRejections(sut.stats().rejected)).toBe(1);
      expect(sut.status()).toMatchObject({ appliedVersion: 3, lastRejection: { version: 1 } });
    });

    it('refuses a candidate replayed on the stable topic, where it would reach every instance', async () => {
      await publishVersion(2);
      const sut = await startSut();
      const rejected = nextEvent(sut, 'rejected');

      await probe.publish(
        CONFIG_TOPIC,
        buildCandidateEnvelope(keys, { version: 3, rollout: { instances: ['w-2'] } }),
      );

      expect(await rejected).toMatchObject({ reason: 'service', version: 3 });
      expect(sut.beginRun().version).toBe(2);
    });

    it('reports a broken candidate that names it as a rejection with its version (what rolls a rollout back)', async () => {
      await publishVersion(2);
      const sut = await startSut();
      const rejected = nextEvent(sut, 'rejected');

      await publishCandidate(3, [INSTANCE], { config: { thresholds: { high: 0.2, low: 0.5 } } });

      expect(await rejected).toMatchObject({ reason: 'schema', version: 3 });
      await waitForHealth(
        (h) => h.lastRejection?.reason === 'schema' && h.lastRejection.version === 3,
        'health reporting the candidate rejection',
      );
      expect(sut.beginRun().version).toBe(2);
    });

    it('takes a cleared candidate topic (an empty retained message) for no candidate, not a rejection', async () => {
      await publishVersion(2);
      const sut = await startSut();

      await probe.publish(CANDIDATE_TOPIC, Buffer.alloc(0));
      const accepted = nextEvent(sut, 'accepted', (event) => event.version === 3);
      await publishVersion(3);
      await accepted;

      expect(totalRejections(sut.stats().rejected)).toBe(0);
    });

    it('restarts on a candidate from its last-known-good file, and the broker confirms it without a rejection', async () => {
      await publishVersion(2);
      const first = await startSut();
      const accepted = nextEvent(first, 'accepted', (event) => event.version === 3);
      await publishCandidate(3, [INSTANCE]);
      await accepted;
      await first.stop();

      const offline = await startSut({ mqttUrl: await unreachableBrokerUrl() });
      expect(offline.beginRun()).toMatchObject({ version: 3, source: 'lkg' });
      expect(logger.text()).toMatch(/version 3, the candidate of rollout r-1/);
      await offline.stop();

      // Both topics hold what they held: the stable 2 is behind the candidate, the candidate a duplicate.
      const sut = await startSut();
      expect(sut.status()).toMatchObject({ status: 'online', appliedVersion: 3 });
      expect(sut.stats()).toMatchObject({ accepted: 0, duplicates: 1 });
      expect(totalRejections(sut.stats().rejected)).toBe(0);
    });

    it('does not run a saved candidate under another instance id (the file is bound to its instance)', async () => {
      await publishVersion(2);
      const first = await startSut();
      const accepted = nextEvent(first, 'accepted', (event) => event.version === 3);
      await publishCandidate(3, [INSTANCE]);
      await accepted;
      await first.stop();

      // The same file, read by an instance the candidate does not name.
      const sut = await startSut({ instanceId: 'w-2', mqttUrl: await unreachableBrokerUrl() });

      expect(sut.beginRun()).toMatchObject({ version: 0, source: 'defaults' });
      expect(logger.text()).toMatch(
        /Ignoring last-known-good file .*was saved by another instance, not w-2/,
      );
    });
  });

  describe('run outcomes and labels in health', () => {
    it('reports its labels in every status and in its will', async () => {
      await publishVersion(2);
      const labels = { region: 'eu-west', tier: 'canary' };
      const sut = await startSut({ labels });
      const online = await waitForHealth((h) => h.status === 'online', 'online health');
      expect(online.labels).toEqual(labels);
      expect(sut.status().labels).toEqual(labels);
      const seen = probe.messages.length;

      broker.dropClient(`${SERVICE}.${INSTANCE}`);

      const will = await probe.waitFor(
        (m) =>
          probe.messages.indexOf(m) >= seen &&
          m.topic === HEALTH_TOPIC &&
          healthOf(m.payload).status === 'offline',
        'the offline will',
      );
      expect(healthOf(will.payload).labels).toEqual(labels);
    });

    it('counts completed and failed runs on the version of the runs, at once when a rollout needs them', async () => {
      await publishVersion(2);
      const sut = await startSut();
      expect(sut.status()).not.toHaveProperty('runs');
      expect(sut.status()).not.toHaveProperty('lastRun');

      const first = sut.beginRun();
      const firstHealth = waitForHealth((h) => h.runs !== undefined, 'health after the first run');
      sut.endRun(first, { ok: true });
      expect(await firstHealth).toMatchObject({
        runs: { version: 2, completed: 1, failed: 0 },
        lastRun: { version: 2, ok: true, at: expect.any(String) },
      });

      const failing = sut.beginRun();
      const failedHealth = waitForHealth((h) => h.runs?.failed === 1, 'health after a failed run');
      sut.endRun(failing, { ok: false });
      expect(await failedHealth).toMatchObject({
        runs: { version: 2, completed: 1, failed: 1 },
        lastRun: { version: 2, ok: false },
      });
      expect(logger.text()).toMatch(
        /A run on dedup-worker config version 2 failed \(1 of 2 on it\)/,
      );

      // A run on a new version starts its counts again.
      const accepted = nextEvent(sut, 'accepted', (event) => event.version === 3);
      await publishVersion(3);
      await accepted;
      const third = sut.beginRun();
      sut.endRun(third, { ok: true });
      expect(sut.status()).toMatchObject({
        runs: { version: 3, completed: 1, failed: 0 },
        lastRun: { version: 3, ok: true },
      });
    });

    it('publishes routine successes on the same version at most once a second', async () => {
      await publishVersion(2);
      const sut = await startSut();
      sut.endRun(sut.beginRun(), { ok: true });
      const statuses: InstanceStatus[] = [];
      sut.on('status', (status) => statuses.push(status));
      const run = sut.beginRun();
      const started = Date.now();
      const flushed = nextEvent(sut, 'status', (status) => status.runs?.completed === 2, 3000);

      sut.endRun(run, { ok: true });

      // Only the run start was published so far; the success follows within the second.
      expect(statuses.map((status) => status.runs?.completed)).toEqual([1]);
      await flushed;
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      await waitForHealth((h) => h.runs?.completed === 2, 'the coalesced health on the broker');
    });

    it('refuses to end a run it did not begin, or one that ended already', async () => {
      await publishVersion(2);
      const sut = await startSut();
      const run = sut.beginRun();
      const invalid = expect.objectContaining({ code: ConfigClientErrorCode.InvalidRun });

      expect(() => sut.endRun(sut.current(), { ok: true })).toThrow(invalid);
      expect(() => sut.endRun({ ...run }, { ok: true })).toThrow(invalid);
      expect(() => sut.endRun(run, { ok: 'yes' } as unknown as { ok: boolean })).toThrow(invalid);
      sut.endRun(run, { ok: true });
      expect(() => sut.endRun(run, { ok: true })).toThrow(invalid);
      expect(sut.status().runs).toEqual({ version: 2, completed: 1, failed: 0 });
    });
  });

  it('reports schemaDrift when the manager built the version for another schema', async () => {
    await probe.publish(
      CONFIG_TOPIC,
      buildEnvelope(keys, { version: 2, schemaHash: `sha256:${'a'.repeat(64)}` }),
    );

    const sut = await startSut();

    expect(sut.beginRun()).toMatchObject({ version: 2, schemaDrift: true });
    expect(sut.status().schemaDrift).toBe(true);
    await waitForHealth((h) => h.schemaDrift, 'health with schemaDrift');
    expect(logger.text()).toMatch(/schemaDrift/);
  });

  describe('offline status', () => {
    it('leaves a will: a dropped connection makes the broker publish the retained offline status', async () => {
      await publishVersion(2);
      const sut = await startSut();
      sut.beginRun();
      await waitForHealth((h) => h.status === 'online' && h.lastRunVersion === 2, 'online');
      const seen = probe.messages.length;

      broker.dropClient(`${SERVICE}.${INSTANCE}`);

      const will = await probe.waitFor(
        (m) =>
          probe.messages.indexOf(m) >= seen &&
          m.topic === HEALTH_TOPIC &&
          healthOf(m.payload).status === 'offline',
        'the offline will',
      );
      // The broker holds the will from CONNECT time, so only its identity and status are certain.
      expect(healthOf(will.payload)).toMatchObject({ service: SERVICE, instanceId: INSTANCE });
      // It reconnects by itself and says so again.
      await probe.waitFor(
        (m) =>
          probe.messages.indexOf(m) > probe.messages.indexOf(will) &&
          m.topic === HEALTH_TOPIC &&
          healthOf(m.payload).status === 'online',
        'online again after reconnecting',
      );
    });

    it('publishes a retained offline status on stop()', async () => {
      await publishVersion(2);
      const sut = await startSut();

      await sut.stop();

      const late = await MqttProbe.connect(broker.url, [HEALTH_TOPIC]);
      try {
        const retained = await late.waitFor((m) => m.retain, 'the retained health');
        expect(healthOf(retained.payload)).toMatchObject({ status: 'offline', appliedVersion: 2 });
      } finally {
        await late.close();
      }
    });
  });

  it('keeps going when a listener throws, and logs it', async () => {
    await publishVersion(1);
    const sut = await startSut();
    sut.on('accepted', () => {
      throw new Error('listener bug');
    });

    const accepted = nextEvent(sut, 'accepted');
    await publishVersion(2);

    expect((await accepted).version).toBe(2);
    expect(logger.text()).toMatch(/"accepted" listener .* threw: listener bug/);
  });

  describe('options', () => {
    it.each<[string, Partial<ConfigClientOptions>]>([
      // Any registered service will do (issue 14), but the name is a topic segment.
      ['service', { service: 'Not/A-Service' }],
      // `format` is not a supported keyword (nor in the JsonSchema type: hence the cast).
      [
        'schema',
        {
          schema: {
            type: 'object',
            properties: { email: { type: 'string', format: 'email' } as JsonSchema },
          },
        },
      ],
      ['instanceId', { instanceId: 'bad/id' }],
      ['trustedKeys', { trustedKeys: new Map() }],
      ['lkgHmacKey', { lkgHmacKey: randomBytes(8) }],
      ['mqttUrl', { mqttUrl: 'http://example.com' }],
      ['topicPrefix', { topicPrefix: 'no-slash' }],
      ['initialConfigTimeoutMs', { initialConfigTimeoutMs: -1 }],
      ['mqttCaFile', { mqttCaFile: '/nonexistent/ca.pem' }],
      ['labels', { labels: { Region: 'eu' } }],
      ['labels', { labels: { region: 'eu west' } }],
    ])('refuses an invalid %s with a ConfigClientError naming it', (option, overrides) => {
      let caught: unknown;
      try {
        new ConfigClient(options(overrides));
      } catch (error) {
        caught = error;
      }

      expect(caught).toBeInstanceOf(ConfigClientError);
      expect(caught).toMatchObject({
        code: ConfigClientErrorCode.InvalidOption,
        problems: [option],
        message: expect.stringContaining(option) as unknown,
      });
    });

    it('uses the topic prefix for every topic', async () => {
      const prefixed = await MqttProbe.connect(broker.url, [`tenant-a/${HEALTH_TOPIC}`]);
      try {
        await prefixed.publish(`tenant-a/${CONFIG_TOPIC}`, buildEnvelope(keys, { version: 7 }));
        await prefixed.publish(
          `tenant-a/${CANDIDATE_TOPIC}`,
          buildCandidateEnvelope(keys, { version: 8, rollout: { instances: [INSTANCE] } }),
        );
        const sut = createSut({ topicPrefix: 'tenant-a/' });
        const candidate = nextEvent(sut, 'accepted', (event) => event.version === 8);
        await sut.start();
        await candidate;

        expect(sut.beginRun().version).toBe(8);
        await prefixed.waitFor((m) => healthOf(m.payload).appliedVersion === 8, 'prefixed health');
      } finally {
        await prefixed.close();
      }
    });
  });
});
