import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  candidateTopic,
  configTopic,
  healthTopic,
  type InstanceStatus,
  type MatchingConfig,
} from '@app/contracts';
import { hmacSha256 } from '@app/crypto';
import {
  CapturedLogger,
  MqttProbe,
  type TestBroker,
  unreachableBrokerUrl,
  until,
} from '@app/testing';
import {
  buildCandidateEnvelope,
  buildEnvelope,
  createTestKeys,
  type EnvelopeSpec,
  type TestKeys,
  trustedKeysOf,
} from '../test/support/envelope-factory';
import { nextEvent } from '../test/support/client-events';
import { startTestBroker } from '../test/support/test-broker';
import { ConfigClient } from './config-client';
import type { ConfigClientOptions } from './config-client.options';
import { type LastKnownGoodFile, LastKnownGoodStore } from './last-known-good';

const SERVICE = 'dedup-worker';
const INSTANCE = 'w-1';
const CONFIG_TOPIC = configTopic(SERVICE);
const CANDIDATE_TOPIC = candidateTopic(SERVICE);
const HEALTH_TOPIC = healthTopic(SERVICE, INSTANCE);
const DAY_MS = 24 * 60 * 60 * 1000;

function healthOf(payload: Buffer): InstanceStatus {
  return JSON.parse(payload.toString('utf8')) as InstanceStatus;
}

function ago(ms: number): string {
  return new Date(Date.now() - ms).toISOString();
}

// Freshness (docs/recovery.md): expiry for a fresh worker, attestations by heartbeats, staleness.
describe(`${ConfigClient.name} freshness`, () => {
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
    dir = mkdtempSync(join(tmpdir(), 'config-client-fresh-'));
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
  });

  const lkgPath = () => join(dir, 'lkg', `${SERVICE}.${INSTANCE}.lkg.json`);
  const savedFile = () => JSON.parse(readFileSync(lkgPath(), 'utf8')) as LastKnownGoodFile;

  function createSut(overrides: Partial<ConfigClientOptions> = {}): ConfigClient<MatchingConfig> {
    const sut = new ConfigClient<MatchingConfig>({
      service: SERVICE,
      instanceId: INSTANCE,
      mqttUrl: broker.url,
      trustedKeys: trustedKeysOf(keys),
      secretKey: keys.box.secretKey,
      lkgPath: lkgPath(),
      lkgHmacKey: hmacKey,
      initialConfigTimeoutMs: 5000,
      maxStalenessSeconds: 1,
      logger,
      ...overrides,
    });
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

  async function publish(spec: EnvelopeSpec, topic = CONFIG_TOPIC): Promise<Buffer> {
    const bytes = buildEnvelope(keys, spec);
    await probe.publish(topic, bytes);
    return bytes;
  }

  async function waitForHealth(
    match: (health: InstanceStatus) => boolean,
    what: string,
    timeoutMs = 5000,
  ): Promise<InstanceStatus> {
    const message = await probe.waitFor(
      (m) => m.topic === HEALTH_TOPIC && match(healthOf(m.payload)),
      what,
      timeoutMs,
    );
    return healthOf(message.payload);
  }

  describe('rule 4a: a fresh worker and an expired envelope', () => {
    it('refuses an expired retained envelope replayed to a new instance, and reports expired with the version', async () => {
      await publish({ version: 3, issuedAt: ago(8 * DAY_MS), expiresAt: ago(DAY_MS) });

      const sut = await startSut();

      expect(sut.beginRun()).toMatchObject({ version: 0, source: 'defaults' });
      const health = await waitForHealth((h) => h.rejections.expired === 1, 'expired in health');
      expect(health).toMatchObject({
        status: 'degraded',
        appliedVersion: 0,
        lastRejection: { version: 3, reason: 'expired' },
      });
      expect(logger.text()).toMatch(/Rejected a config message .*\(expired, version 3\)/);
    });

    it('accepts an envelope that expired within the 5-minute clock skew allowance', async () => {
      await publish({ version: 3, issuedAt: ago(DAY_MS), expiresAt: ago(4 * 60_000) });

      const sut = await startSut();

      expect(sut.beginRun()).toMatchObject({ version: 3, source: 'broker' });
    });

    it('accepts an expired newer version once it runs one: newer is better than what it has', async () => {
      await publish({ version: 3 });
      const sut = await startSut({ maxStalenessSeconds: 0 });
      const accepted = nextEvent(sut, 'accepted', (e) => e.version === 4);

      await publish({ version: 4, issuedAt: ago(8 * DAY_MS), expiresAt: ago(DAY_MS) });

      await accepted;
      expect(sut.stats().rejected.expired).toBe(0);
    });
  });

  describe('attestations', () => {
    it('takes an equal version with a later issuedAt as an attestation: fresh again, nothing applied, the file rewritten', async () => {
      const issuedAt = ago(10 * 60_000);
      await publish({ version: 3, issuedAt });
      const sut = await startSut();
      // Accepted as of its issuedAt, ten minutes ago: more than the one-second limit.
      expect(sut.status()).toMatchObject({ appliedVersion: 3, attestedAt: issuedAt, stale: true });
      const acceptedEvents: number[] = [];
      sut.on('accepted', (e) => acceptedEvents.push(e.version));

      const heartbeatAt = new Date().toISOString();
      const heartbeat = await publish({ version: 3, issuedAt: heartbeatAt });

      const health = await waitForHealth((h) => h.stale === false, 'fresh health');
      expect(health).toMatchObject({
        appliedVersion: 3,
        attestedAt: heartbeatAt,
        status: 'online',
      });
      expect(acceptedEvents).toEqual([]);
      expect(sut.stats()).toMatchObject({ accepted: 1, duplicates: 1 });
      expect(Object.values(sut.stats().rejected).every((count) => count === 0)).toBe(true);
      await sut.stop();
      expect(Buffer.from(savedFile().envelope, 'base64')).toEqual(heartbeat);
      expect(savedFile()).toMatchObject({ format: 3, instanceId: INSTANCE });
    });

    it('caps attestedAt at its own clock, and ignores an older re-signed copy', async () => {
      await publish({ version: 3 });
      const sut = await startSut({ maxStalenessSeconds: 0 });
      const first = sut.status().attestedAt;

      await publish({ version: 3, issuedAt: new Date(Date.now() + DAY_MS).toISOString() });
      const capped = await until(
        'the future heartbeat attested',
        () => (sut.status().attestedAt !== first ? sut.status().attestedAt : undefined),
        { timeoutMs: 5000 },
      );
      expect(Date.parse(capped)).toBeLessThanOrEqual(Date.now());

      await publish({ version: 3, issuedAt: ago(DAY_MS) });
      await until(
        'the older copy handled',
        () => (sut.stats().duplicates >= 2 ? true : undefined),
        {
          timeoutMs: 5000,
        },
      );
      expect(sut.status().attestedAt).toBe(capped);
    });

    it('does not take a candidate-topic copy as an attestation of a version from the config topic', async () => {
      const issuedAt = ago(10 * 60_000);
      await publish({ version: 3, issuedAt });
      await startSut();

      await probe.publish(
        CANDIDATE_TOPIC,
        buildCandidateEnvelope(keys, {
          version: 3,
          rollout: { instances: [INSTANCE], stableVersion: 2 },
        }),
      );
      // The config topic then attests; only that moves attestedAt.
      const heartbeatAt = new Date().toISOString();
      await publish({ version: 3, issuedAt: heartbeatAt });

      await waitForHealth((h) => h.attestedAt === heartbeatAt, 'attested by the config topic');
      const attestations = logger.lines.filter(
        (l) => l.level === 'debug' && l.message.includes('attested at'),
      );
      expect(attestations.map((l) => l.message)).toEqual([
        expect.stringContaining(`(${CONFIG_TOPIC})`),
      ]);
    });

    it('keeps a candidate-running instance fresh through the candidate topic, and through the config topic once the rollout completes', async () => {
      await publish({ version: 2 });
      const sut = await startSut();
      const candidate = (issuedAt: string) =>
        buildCandidateEnvelope(keys, {
          version: 3,
          issuedAt,
          rollout: { id: 'r-1', instances: [INSTANCE] },
        });
      const accepted = nextEvent(sut, 'accepted', (e) => e.version === 3);
      await probe.publish(CANDIDATE_TOPIC, candidate(ago(10 * 60_000)));
      await accepted;

      const onCandidate = new Date().toISOString();
      await probe.publish(CANDIDATE_TOPIC, candidate(onCandidate));
      await waitForHealth((h) => h.attestedAt === onCandidate, 'attested on the candidate topic');

      const completed = new Date(Date.now() + 1).toISOString();
      await publish({ version: 3, issuedAt: completed });
      await waitForHealth((h) => h.attestedAt === completed, 'attested on the config topic');
      expect(logger.text()).toMatch(/rollout completed/);
    });
  });

  describe('staleness', () => {
    it('turns stale in its health when the heartbeat is withheld, says what to check, and fresh again on the next one', async () => {
      const issuedAt = new Date().toISOString();
      await publish({ version: 3, issuedAt });
      const sut = await startSut();
      const stale = nextEvent(sut, 'freshness', (e) => e.stale);
      await waitForHealth((h) => h.stale === false && h.appliedVersion === 3, 'fresh health');

      // Nothing more is published: the broker froze, or the manager stopped re-signing.
      const health = await waitForHealth((h) => h.stale === true, 'stale health', 5000);
      expect(health).toMatchObject({ status: 'online', appliedVersion: 3, attestedAt: issuedAt });
      expect(await stale).toMatchObject({ stale: true, attestedAt: issuedAt });
      const warnings = logger.lines.filter((l) => l.message.includes('config is stale'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0].message).toMatch(/broker connection/);
      expect(warnings[0].message).toMatch(/ACL/);
      expect(warnings[0].message).toMatch(/CONFIG_HEARTBEAT_SECONDS/);
      expect(warnings[0].message).toMatch(/clocks/);
      expect(sut.beginRun()).toMatchObject({ version: 3 });

      const heartbeatAt = new Date().toISOString();
      await publish({ version: 3, issuedAt: heartbeatAt });
      await waitForHealth((h) => h.stale === false && h.attestedAt === heartbeatAt, 'fresh again');
      expect(logger.text()).toMatch(/is fresh again/);
    });

    it('is stale when nothing was applied for longer than the limit since start', async () => {
      const sut = await startSut({ initialConfigTimeoutMs: 0 });

      const health = await waitForHealth((h) => h.stale === true, 'stale health', 5000);
      expect(health).toMatchObject({ appliedVersion: 0, source: 'defaults' });
      expect(health).not.toHaveProperty('attestedAt');
      expect(sut.status().stale).toBe(true);
      expect(logger.text()).toMatch(/nothing was applied in the \d+ s since start/);
    });

    it('never turns stale with maxStalenessSeconds 0', async () => {
      await publish({ version: 3, issuedAt: ago(DAY_MS) });

      const sut = await startSut({ maxStalenessSeconds: 0 });

      expect(sut.status()).toMatchObject({ stale: false, attestedAt: expect.any(String) });
    });

    it('starting from its last-known-good file, is as fresh as the saved envelope was', async () => {
      const issuedAt = ago(10 * 60_000);
      const bytes = buildEnvelope(keys, { version: 5, issuedAt });
      await new LastKnownGoodStore(lkgPath(), hmacKey, INSTANCE).save(bytes, SERVICE);

      const sut = await startSut({ mqttUrl: await unreachableBrokerUrl() });

      expect(sut.status()).toMatchObject({
        appliedVersion: 5,
        source: 'lkg',
        attestedAt: issuedAt,
        stale: true,
      });
    });
  });

  describe('last-known-good format upgrade', () => {
    it('starts from a format 1 file of an earlier SDK, and rewrites it as format 3 on the next attestation', async () => {
      const envelope = buildEnvelope(keys, { version: 5, issuedAt: ago(10 * 60_000) });
      // Format 1 as earlier SDKs wrote it: domain, u32 format, u32 service length, service, envelope.
      const header = Buffer.alloc(8);
      header.writeUInt32BE(1, 0);
      header.writeUInt32BE(Buffer.byteLength(SERVICE), 4);
      const mac = hmacSha256(
        hmacKey,
        Buffer.concat([
          Buffer.from('config-centre/last-known-good\0'),
          header,
          Buffer.from(SERVICE),
          envelope,
        ]),
      );
      mkdirSync(join(dir, 'lkg'), { recursive: true });
      writeFileSync(
        lkgPath(),
        JSON.stringify({
          format: 1,
          service: SERVICE,
          savedAt: ago(10 * 60_000),
          envelope: envelope.toString('base64'),
          hmac: mac.toString('base64'),
        }),
      );
      const heartbeat = await publish({ version: 5, issuedAt: new Date().toISOString() });

      const sut = await startSut();

      expect(sut.status()).toMatchObject({ appliedVersion: 5, status: 'online' });
      await sut.stop();
      expect(savedFile()).toMatchObject({ format: 3, instanceId: INSTANCE });
      expect(Buffer.from(savedFile().envelope, 'base64')).toEqual(heartbeat);
      expect(logger.text()).toMatch(
        /is format 1; the next accepted version or attestation rewrites it/,
      );
    });
  });

  describe('last-known-good key rotation', () => {
    it('starts from a file under a previous LKG key and rewrites it under the current one at once', async () => {
      const oldKey = randomBytes(32);
      await new LastKnownGoodStore(lkgPath(), oldKey, INSTANCE).save(
        buildEnvelope(keys, { version: 5 }),
        SERVICE,
      );

      const sut = await startSut({
        mqttUrl: await unreachableBrokerUrl(),
        lkgPreviousHmacKeys: [oldKey],
      });
      await sut.stop();

      expect(sut.status()).toMatchObject({ appliedVersion: 5, source: 'lkg' });
      expect(logger.text()).toMatch(/checks only under a previous key .*rewriting it/);
      expect(
        await new LastKnownGoodStore(lkgPath(), hmacKey, INSTANCE).load(SERVICE),
      ).toMatchObject({ kind: 'ok', underPreviousKey: false });
    });
  });
});
