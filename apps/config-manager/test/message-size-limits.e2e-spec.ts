import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import {
  ConfigClient,
  type ConfigClientEvents,
  type ConfigRejectedEvent,
} from '@app/config-client';
import { MAX_ENVELOPE_BYTES, MAX_MQTT_PACKET_BYTES } from '@app/contracts';
import {
  eventually,
  Mosquitto,
  type MosquittoOptions,
  MqttProbe,
  type ProbeMessage,
  readEnvelope,
  verifiesWith,
  writeProductionMosquittoConfig,
} from '@app/testing';
import { BrokerConnectionService } from '../src/messaging/broker-connection.service';
import { startManager, type TestManager } from './support/test-app';

/**
 * Issue 12, point 5: no broker we ship or embed, and no client of ours, holds a packet larger
 * than MAX_MQTT_PACKET_BYTES in memory; a maximal envelope still passes everywhere.
 */

const SERVICE = 'dedup-worker';
const CONFIG_TOPIC = `system/config/${SERVICE}`;
const ROOT = resolve(__dirname, '..', '..', '..');

/** A plain client (no guard, no reconnects), as an attacker with write access would have. */
function rawClient(url: string): Promise<MqttClient> {
  return connectAsync(url, {
    reconnectPeriod: 0,
    clientId: `size-test-${randomBytes(6).toString('hex')}`,
  });
}

/** Resolves when `client` loses its connection; fails after `timeoutMs`. */
function closeOf(client: MqttClient, timeoutMs = 10000): Promise<void> {
  return new Promise((done, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`still connected after ${timeoutMs} ms`)),
      timeoutMs,
    );
    client.once('close', () => {
      clearTimeout(timer);
      done();
    });
  });
}

/** The next `event` of `client` that matches; fails after `timeoutMs`. */
function nextEvent<K extends keyof ConfigClientEvents>(
  client: ConfigClient,
  event: K,
  match: (payload: ConfigClientEvents[K]) => boolean,
  timeoutMs = 10000,
): Promise<ConfigClientEvents[K]> {
  return new Promise((done, fail) => {
    const timer = setTimeout(() => {
      off();
      fail(new Error(`no matching "${event}" event within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = client.on(event, (payload) => {
      if (!match(payload)) return;
      clearTimeout(timer);
      off();
      done(payload);
    });
  });
}

/** A PUBLISH payload that makes the whole QoS 1 packet on CONFIG_TOPIC exactly `packetBytes` long. */
function payloadForPacketOf(packetBytes: number): Buffer {
  // Fixed header: 1 type byte + a 3-byte remaining length at this size; topic length 2; packet id 2.
  return Buffer.alloc(packetBytes - 1 - 3 - 2 - CONFIG_TOPIC.length - 2, 0x20);
}

function envelopeOf(version: number) {
  return (m: ProbeMessage) =>
    m.topic === CONFIG_TOPIC && readEnvelope(m.payload).payload.version === version;
}

describe('MQTT message size limits', () => {
  // Above the waits below, so a failure names what did not happen.
  jest.setTimeout(20_000);
  const cleanups: Array<() => Promise<unknown>> = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });

  async function manager(env: Record<string, string> = {}): Promise<TestManager> {
    const sut = await startManager({ store: 'sqlite', env });
    cleanups.push(() => sut.close());
    return sut;
  }

  async function mosquitto(options: MosquittoOptions): Promise<Mosquitto> {
    const broker = await Mosquitto.start(options);
    cleanups.push(() => broker.destroy());
    return broker;
  }

  async function probe(url: string, filters: string[]): Promise<MqttProbe> {
    const p = await MqttProbe.connect(url, filters, { reconnectPeriod: 0 });
    cleanups.push(() => p.close());
    return p;
  }

  async function client(url: string): Promise<MqttClient> {
    const c = await rawClient(url);
    cleanups.push(() => Promise.resolve(c.end(true)));
    return c;
  }

  describe("the repository's mosquitto.conf", () => {
    it('sets max_packet_size to MAX_MQTT_PACKET_BYTES, and not the deprecated message_size_limit', () => {
      const conf = readFileSync(join(ROOT, 'docker/mosquitto/mosquitto.conf'), 'utf8');

      const value = /^max_packet_size (\d+)$/m.exec(conf)?.[1];

      expect(Number(value)).toBe(MAX_MQTT_PACKET_BYTES);
      expect(MAX_MQTT_PACKET_BYTES).toBeGreaterThan(MAX_ENVELOPE_BYTES);
      expect(conf).not.toMatch(/^message_size_limit/m);
    });

    it('disconnects a client publishing a larger packet and keeps the retained message; a maximal packet passes', async () => {
      const users = [{ username: 'config-manager', password: randomBytes(8).toString('hex') }];
      const broker = await mosquitto({
        configure: (dir, port) => writeProductionMosquittoConfig(dir, port, users, 'open'),
      });
      const publisher = await client(broker.url);
      const maximal = payloadForPacketOf(MAX_MQTT_PACKET_BYTES);
      // Resolves on the broker's PUBACK: mosquitto took the largest packet we allow.
      await publisher.publishAsync(CONFIG_TOPIC, maximal, { qos: 1, retain: true });

      const closed = closeOf(publisher);
      publisher.publish(CONFIG_TOPIC, Buffer.alloc(MAX_MQTT_PACKET_BYTES, 0x21), {
        qos: 1,
        retain: true,
      });
      await closed;

      const subscriber = await probe(broker.url, [CONFIG_TOPIC]);
      const retained = await subscriber.waitFor((m) => m.topic === CONFIG_TOPIC);
      expect(retained.payload.equals(maximal)).toBe(true);
    });
  });

  describe('the embedded broker', () => {
    it("disconnects a client publishing a 1 MB retained message; subscribers still get the manager's envelope", async () => {
      const sut = await manager();
      const url = await sut.api.brokerUrl();
      const attacker = await client(url);

      const closed = closeOf(attacker);
      attacker.publish(CONFIG_TOPIC, Buffer.alloc(1024 * 1024, 0x7b), { qos: 1, retain: true });
      await closed;

      const subscriber = await probe(url, [CONFIG_TOPIC]);
      const message = await subscriber.waitFor(envelopeOf(1), "the manager's version 1");
      const keys = await sut.api.keys().expect(200);
      expect(verifiesWith(message.payload, keys.body.signing[0].publicKey)).toBe(true);
      const logs = await eventually(
        () => Promise.resolve(sut.logs.text()),
        (text) => text.includes('Disconnected MQTT client 127.0.0.1:'),
      );
      expect(logs).toMatch(
        new RegExp(`Disconnected MQTT client 127\\.0\\.0\\.1:\\d+: it sent a \\d+-byte packet`),
      );
      const ready = await sut.api.ready().expect(200);
      expect(ready.body.checks.broker).toMatchObject({ status: 'up' });
    });
  });

  describe('clients on a broker without a limit', () => {
    it('a worker drops a 5 MB retained config unread (oversized), acknowledges it, and accepts the next version', async () => {
      // One message in flight per client: an unacknowledged drop would hold back everything after it.
      const broker = await mosquitto({ extraConfig: ['max_inflight_messages 1'] });
      const sut = await manager({ MQTT_URL: broker.url });
      const managerDrops: Array<[string, number]> = [];
      sut.app.get(BrokerConnectionService).onOversized((topic, bytes) => {
        managerDrops.push([topic, bytes]);
      });
      const observer = await probe(broker.url, [CONFIG_TOPIC]);
      await observer.waitFor(envelopeOf(1), 'version 1');
      const [signing] = (await sut.api.keys().expect(200)).body.signing;
      const dir = mkdtempSync(join(tmpdir(), 'cm-size-worker-'));
      cleanups.push(() => Promise.resolve(rmSync(dir, { recursive: true, force: true })));
      const worker = new ConfigClient({
        service: SERVICE,
        instanceId: 'w-size',
        mqttUrl: broker.url,
        trustedKeys: new Map([[signing.kid, Buffer.from(signing.publicKey, 'base64')]]),
        lkgPath: join(dir, 'lkg.json'),
        lkgHmacKey: randomBytes(32),
        initialConfigTimeoutMs: 10000,
      });
      cleanups.push(() => worker.stop());
      await worker.start();
      expect(worker.status()).toMatchObject({ status: 'online', appliedVersion: 1 });

      const rejected = nextEvent(worker, 'rejected', () => true);
      const junk = Buffer.alloc(5 * 1024 * 1024, 0x7b);
      await observer.publishRetained(CONFIG_TOPIC, junk);

      expect(await rejected).toEqual<ConfigRejectedEvent>({
        reason: 'oversized',
        detail: expect.stringMatching(/^the MQTT packet is \d+ bytes, .* dropped unread$/),
        at: expect.any(String),
      });
      expect(worker.status()).toMatchObject({
        status: 'online',
        appliedVersion: 1,
        rejections: { oversized: 1 },
        lastRejection: { reason: 'oversized' },
      });
      expect(worker.status().lastRejection).not.toHaveProperty('version');

      const accepted = nextEvent(worker, 'accepted', (e) => e.version === 2);
      await sut.api.patchConfig(SERVICE, { thresholds: { high: 0.8 } }).expect(200);
      expect(await accepted).toMatchObject({ version: 2, source: 'broker' });
      expect(worker.stats().rejected.oversized).toBe(1);

      // The manager's own subscription dropped it too, and said so.
      expect(managerDrops).toEqual([[CONFIG_TOPIC, expect.any(Number)]]);
      expect(managerDrops[0][1]).toBeGreaterThan(junk.length);
      expect(sut.logs.text()).toMatch(
        /Dropped a \d+-byte message on system\/config\/dedup-worker unread/,
      );
    });
  });
});
