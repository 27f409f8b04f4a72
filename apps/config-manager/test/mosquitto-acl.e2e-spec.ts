import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IClientOptions } from 'mqtt';
import { formatKeyList, generateBoxKeyPair } from '@app/crypto';
import { WorkerProcess } from '../../dedup-worker/test/support/worker-process';
import { readEnvelope } from './support/envelopes';
import { MqttProbe } from './support/mqtt-probe';
import { accepts, freePort } from './support/ports';
import { writeProductionMosquittoConfig } from './support/production-mosquitto';
import { bearer, startManager, TestManager, TOKENS } from './support/test-app';

/**
 * The production broker configuration (docker/mosquitto/mosquitto.conf + acl, password file
 * from ops/mosquitto-passwords.sh) on a real mosquitto of this test's own: only the listener
 * port and the file paths are rewritten into a temp dir.
 */

const SERVICE = 'dedup-worker';
const CONFIG_TOPIC = `system/config/${SERVICE}`;
const admin = bearer(TOKENS.admin);

const PASSWORDS = {
  manager: `manager-${randomBytes(8).toString('hex')}`,
  worker: `worker-${randomBytes(8).toString('hex')}`,
};

/** A client with the given credentials that records what it receives (no reconnects). */
function connectAs(
  url: string,
  auth: Pick<IClientOptions, 'username' | 'password'>,
): Promise<MqttProbe> {
  return MqttProbe.connect(url, [], {
    ...auth,
    reconnectPeriod: 0,
    clientId: `acl-test-${randomBytes(6).toString('hex')}`,
  });
}

/** The repository's mosquitto.conf, ACL and generated password file, on a free port. */
class ProductionMosquitto {
  readonly lines: string[] = [];
  private child?: ChildProcess;
  private exited?: Promise<unknown>;

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<ProductionMosquitto> {
    const dir = mkdtempSync(join(tmpdir(), 'cm-mosquitto-acl-'));
    const broker = new ProductionMosquitto(dir, await freePort());
    try {
      broker.prepare();
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    await broker.launch();
    return broker;
  }

  private prepare(): void {
    const conf = writeProductionMosquittoConfig(this.dir, this.port, PASSWORDS);
    // The test runs what production runs: no anonymous clients, no Nagle delay.
    expect(conf).toMatch(/^allow_anonymous false$/m);
    expect(conf).toMatch(/^set_tcp_nodelay true$/m);
  }

  private async launch(): Promise<void> {
    const child = spawn('mosquitto', ['-c', join(this.dir, 'mosquitto.conf')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.exited = new Promise((done) => child.once('exit', done));
    for (const stream of [child.stdout, child.stderr]) {
      stream.on('data', (chunk: Buffer) => {
        this.lines.push(...chunk.toString().split('\n').filter(Boolean));
      });
    }
    // Ready once its listener accepts connections (its stdout is block-buffered on a pipe,
    // so the log cannot tell); a failed start shows up as an exit.
    const deadline = Date.now() + 10000;
    for (;;) {
      if (await accepts(this.port)) return;
      if (child.exitCode !== null || Date.now() > deadline) {
        await this.destroy();
        throw new Error(`mosquitto did not start:\n${this.lines.join('\n')}`);
      }
      await new Promise((wake) => setTimeout(wake, 25));
    }
  }

  async destroy(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await this.exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

type Instance = { instanceId: string; status: string; appliedVersion: number | null };

/** Polls the manager's instance view (its state, not a timer) until `check` passes. */
async function untilInstance(
  manager: TestManager,
  instanceId: string,
  check: (i: Instance | undefined) => boolean,
  timeoutMs: number,
): Promise<Instance | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await manager.http().get(`/api/services/${SERVICE}/instances`).set(admin);
    const instance = (res.body as Instance[]).find((i) => i.instanceId === instanceId);
    if (check(instance)) return instance;
    if (Date.now() > deadline) {
      throw new Error(
        `instance view never reached the expected state: ${JSON.stringify(instance)}`,
      );
    }
    await new Promise((wake) => setTimeout(wake, 20));
  }
}

describe('production mosquitto configuration (ACL, no anonymous access)', () => {
  const manager = { username: 'config-manager', password: PASSWORDS.manager };
  const worker = { username: SERVICE, password: PASSWORDS.worker };
  const recipient = generateBoxKeyPair();
  let broker: ProductionMosquitto;
  let cm: TestManager | undefined;
  let workDir: string;
  /** The genuine retained envelope the manager published (version 2 after the PATCH). */
  let retainedEnvelope: Buffer;
  const clients: MqttProbe[] = [];

  async function client(auth: Pick<IClientOptions, 'username' | 'password'>) {
    const c = await connectAs(broker.url, auth);
    clients.push(c);
    return c;
  }

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'dw-acl-'));
    broker = await ProductionMosquitto.start();
  }, 30000);

  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await cm?.close();
    await broker?.destroy();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('refuses anonymous clients and wrong passwords', async () => {
    await expect(connectAs(broker.url, {})).rejects.toThrow(/Not authorized/i);
    await expect(
      connectAs(broker.url, { username: SERVICE, password: 'not-the-password' }),
    ).rejects.toThrow(/Not authorized|Bad username or password/i);
    await expect(
      connectAs(broker.url, { username: 'dedup-worker-2', password: PASSWORDS.worker }),
    ).rejects.toThrow(/Not authorized|Bad username or password/i);
  });

  it('carries a change from config-manager to a real dedup-worker process, each on its own credentials', async () => {
    cm = await startManager({
      store: 'sqlite',
      env: {
        MQTT_URL: broker.url,
        MQTT_USERNAME: manager.username,
        MQTT_PASSWORD: manager.password,
        SERVICE_RECIPIENT_KEYS: formatKeyList([{ id: SERVICE, key: recipient.publicKey }]),
      },
    });
    const keys = await cm.http().get('/api/keys').expect(200);
    const signing = keys.body.signing[0] as { kid: string; publicKey: string };
    const workerProcess = WorkerProcess.start({
      MQTT_URL: broker.url,
      MQTT_USERNAME: worker.username,
      MQTT_PASSWORD: worker.password,
      INSTANCE_ID: 'w-acl',
      CONFIG_TRUSTED_KEYS: `${signing.kid}:${signing.publicKey}`,
      CONFIG_SECRET_KEY: recipient.secretKey.toString('base64'),
      LKG_PATH: join(workDir, 'dedup-worker.lkg.json'),
      LKG_HMAC_KEY: randomBytes(32).toString('base64'),
      DATA_DIR: workDir,
      INITIAL_CONFIG_TIMEOUT_MS: '3000',
    });
    try {
      await untilInstance(
        cm,
        'w-acl',
        (i) => i?.status === 'online' && i.appliedVersion === 1,
        20000,
      );

      const patched = await cm
        .http()
        .patch(`/api/services/${SERVICE}/config`)
        .set(admin)
        .send({ thresholds: { high: 0.8 } })
        .expect(200);
      expect(patched.body.version).toBe(2);
      expect(patched.headers['x-config-published']).toBe('true');
      await untilInstance(cm, 'w-acl', (i) => i?.appliedVersion === 2, 5000);
      await workerProcess.waitForLine(/Accepted dedup-worker config version 2/);
    } finally {
      await workerProcess.kill('SIGTERM');
    }
    await untilInstance(cm, 'w-acl', (i) => i?.status === 'offline', 5000);

    // Stop the manager: the denial checks below use raw clients only; the retained v2 stays.
    await cm.stop();
    const reader = await client(manager);
    await reader.subscribe(CONFIG_TOPIC);
    retainedEnvelope = (await reader.waitFor((m) => m.retain, 5000, 'retained envelope')).payload;
    expect(readEnvelope(retainedEnvelope).payload.version).toBe(2);
  }, 60000);

  it("does not let the worker's credentials publish a config, even its own service's", async () => {
    const watcher = await client(manager);
    await watcher.subscribe(CONFIG_TOPIC);
    await watcher.subscribe('system/config/other-service');
    await watcher.waitFor((m) => m.retain && m.topic === CONFIG_TOPIC, 5000, 'retained envelope');

    const forger = await client(worker);
    const forged = Buffer.from(
      JSON.stringify({ alg: 'Ed25519', forged: randomBytes(8).toString('hex') }),
    );
    // QoS 1: the PUBACK comes after mosquitto has handled (here: dropped) each message, so a
    // delivery, had there been one, would be queued to the watcher before the marker below.
    await forger.publish(CONFIG_TOPIC, forged, true);
    await forger.publish('system/config/other-service', forged, true);

    const marker = await client(manager);
    await marker.publish(CONFIG_TOPIC, 'marker-after-forgery', false);
    await watcher.waitFor((m) => m.payload.toString() === 'marker-after-forgery', 5000, 'marker');
    expect(watcher.messages.filter((m) => m.payload.equals(forged))).toEqual([]);
    expect(watcher.messages.filter((m) => m.topic === 'system/config/other-service')).toEqual([]);

    // A new subscriber gets exactly one retained message per topic: still the manager's v2.
    const fresh = await client(manager);
    await fresh.subscribe(CONFIG_TOPIC);
    const retained = await fresh.waitFor((m) => m.retain, 5000, 'retained envelope');
    expect(retained.payload.equals(retainedEnvelope)).toBe(true);
  });

  it("does not let the worker's credentials read another service's config", async () => {
    const publisher = await client(manager);
    await publisher.publish('system/config/other-service', 'other-retained', true);

    const snoop = await client(worker);
    // Subscribed one after the other: mosquitto queues a subscription's retained messages while
    // handling its SUBSCRIBE, so other-service's would arrive before dedup-worker's envelope.
    await snoop.subscribe('system/config/other-service');
    await snoop.subscribe(CONFIG_TOPIC);
    await snoop.waitFor((m) => m.retain && m.topic === CONFIG_TOPIC, 5000, 'own retained envelope');

    // Live: the same publisher, other-service first, then a marker the worker may read.
    await publisher.publish('system/config/other-service', 'other-live', false);
    await publisher.publish(CONFIG_TOPIC, 'marker-after-other', false);
    await snoop.waitFor((m) => m.payload.toString() === 'marker-after-other', 5000, 'marker');
    expect(snoop.messages.filter((m) => m.topic !== CONFIG_TOPIC)).toEqual([]);
    expect(snoop.messages.map((m) => m.payload.toString())).not.toContain('other-retained');
  });

  it("does not let the worker's credentials publish another service's health or the manager's", async () => {
    const watcher = await client(manager);
    await watcher.subscribe('system/health/#');

    const w = await client(worker);
    await w.publish('system/health/other-service/x', 'forged-health', true);
    await w.publish('system/health/config-manager', 'forged-manager-health', true);
    // Its own health topic is allowed: published after the others on the same connection.
    await w.publish(`system/health/${SERVICE}/acl-marker`, 'own-health-marker', false);
    await watcher.waitFor((m) => m.payload.toString() === 'own-health-marker', 5000, 'own health');
    const forgedSeen = watcher.messages.filter((m) =>
      ['forged-health', 'forged-manager-health'].includes(m.payload.toString()),
    );
    expect(forgedSeen).toEqual([]);
  });
});
