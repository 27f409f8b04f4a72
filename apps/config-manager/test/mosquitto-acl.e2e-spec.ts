import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IClientOptions } from 'mqtt';
import { formatKeyList, generateBoxKeyPair } from '@app/crypto';
import {
  BRIDGE_USERNAME,
  type BrokerUser,
  brokerUserEnv,
  Mosquitto,
  MqttProbe,
  readEnvelope,
  runMosquittoPasswords,
  WorkerProcess,
  waitForInstance,
  writeProductionMosquittoConfig,
} from '@app/testing';
import { startManager, TestManager } from './support/test-app';

/**
 * The production broker configuration (docker/mosquitto/mosquitto.conf, and the password and ACL
 * files ops/mosquitto-passwords.sh generates with docker/mosquitto/acl) on a real mosquitto of
 * this test's own: only the listener port and the file paths are rewritten into a temp dir.
 */

const SERVICE = 'dedup-worker';
const CONFIG_TOPIC = `system/config/${SERVICE}`;
const SCHEMA_TOPIC = `system/schema/${SERVICE}`;
/** The instance whose credentials are under test (the real worker process uses them too). */
const INSTANCE = 'w-acl';
const SIBLING = 'w-sibling';
const OWN_HEALTH = `system/health/${SERVICE}/${INSTANCE}`;
const SIBLING_HEALTH = `system/health/${SERVICE}/${SIBLING}`;

function user(username: string): BrokerUser {
  return { username, password: randomBytes(12).toString('hex') };
}

/**
 * One broker user per connection that is open at the same time: with use_username_as_clientid
 * a second connection on a user takes over the first. The test's own probes that need the
 * manager's rights log in as manager replicas.
 */
const USERS = {
  manager: user('config-manager'),
  watcher: user('config-manager/acl-watcher'),
  publisher: user('config-manager/acl-publisher'),
  fresh: user('config-manager/acl-fresh'),
  worker: user(`${SERVICE}/${INSTANCE}`),
  sibling: user(`${SERVICE}/${SIBLING}`),
};

type Auth = Pick<IClientOptions, 'username' | 'password'>;

/** A client with the given credentials that records what it receives (no reconnects). */
function connectAs(url: string, auth: Auth, options: IClientOptions = {}): Promise<MqttProbe> {
  return MqttProbe.connect(url, [], {
    ...auth,
    reconnectPeriod: 0,
    clientId: `acl-test-${randomBytes(6).toString('hex')}`,
    ...options,
  });
}

/** `promise`, or a failure naming `what` after `timeoutMs`. */
async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The repository's mosquitto.conf, ACL and generated password file, on a free port. */
function startProductionMosquitto(): Promise<Mosquitto> {
  return Mosquitto.start({
    configure: (dir, port) => {
      const conf = writeProductionMosquittoConfig(dir, port, Object.values(USERS));
      // The test runs what production runs: no anonymous clients, the username as client id, no
      // Nagle delay.
      expect(conf).toMatch(/^allow_anonymous false$/m);
      expect(conf).toMatch(/^use_username_as_clientid true$/m);
      expect(conf).toMatch(/^set_tcp_nodelay true$/m);
    },
  });
}

describe('production mosquitto configuration (ACL, no anonymous access)', () => {
  const { manager, watcher: watcherUser, publisher: publisherUser, worker, sibling } = USERS;
  const recipient = generateBoxKeyPair();
  let broker: Mosquitto;
  let cm: TestManager | undefined;
  let workDir: string;
  /** The genuine retained envelope the manager published (version 2 after the PATCH). */
  let retainedEnvelope: Buffer;
  const clients: MqttProbe[] = [];

  async function client(auth: Auth, options: IClientOptions = {}) {
    const c = await connectAs(broker.url, auth, options);
    clients.push(c);
    return c;
  }

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'dw-acl-'));
    broker = await startProductionMosquitto();
  }, 30000);

  // Each test's clients end with it, so the next test can log in as the same users.
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close().catch(() => undefined);
  });

  afterAll(async () => {
    await cm?.close();
    await broker?.destroy();
    rmSync(workDir, { recursive: true, force: true });
  });

  it("refuses anonymous clients, wrong passwords, a sibling's password and per-service users", async () => {
    const refused = /Not authorized|Bad username or password/i;
    await expect(connectAs(broker.url, {})).rejects.toThrow(/Not authorized/i);
    await expect(
      connectAs(broker.url, { username: worker.username, password: 'not-the-password' }),
    ).rejects.toThrow(refused);
    // One instance's password does not open its sibling's user.
    await expect(
      connectAs(broker.url, { username: sibling.username, password: worker.password }),
    ).rejects.toThrow(refused);
    // The old per-service user shared by every instance is gone; an unknown user is refused.
    await expect(
      connectAs(broker.url, { username: SERVICE, password: worker.password }),
    ).rejects.toThrow(refused);
    await expect(
      connectAs(broker.url, { username: 'dedup-worker-2', password: worker.password }),
    ).rejects.toThrow(refused);
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
    const keys = await cm.api.keys().expect(200);
    const [signing] = keys.body.signing;
    const workerProcess = WorkerProcess.start({
      MQTT_URL: broker.url,
      MQTT_USERNAME: worker.username,
      MQTT_PASSWORD: worker.password,
      INSTANCE_ID: INSTANCE,
      CONFIG_TRUSTED_KEYS: `${signing.kid}:${signing.publicKey}`,
      CONFIG_SECRET_KEY: recipient.secretKey.toString('base64'),
      LKG_PATH: join(workDir, 'dedup-worker.lkg.json'),
      LKG_HMAC_KEY: randomBytes(32).toString('base64'),
      DATA_DIR: workDir,
      INITIAL_CONFIG_TIMEOUT_MS: '3000',
    });
    try {
      await waitForInstance(cm, (i) => i.status === 'online' && i.appliedVersion === 1, {
        instanceId: INSTANCE,
        timeoutMs: 20000,
      });

      const patched = await cm.api.patchConfig(SERVICE, { thresholds: { high: 0.8 } }).expect(200);
      expect(patched.body.version).toBe(2);
      expect(patched.headers['x-config-published']).toBe('true');
      await waitForInstance(cm, (i) => i.appliedVersion === 2, { instanceId: INSTANCE });
      await workerProcess.waitForLine(/Accepted dedup-worker config version 2/);
    } finally {
      await workerProcess.kill('SIGTERM');
    }
    await waitForInstance(cm, (i) => i.status === 'offline', { instanceId: INSTANCE });

    // Stop the manager: the denial checks below use raw clients only; the retained v2 stays.
    await cm.stop();
    const reader = await client(watcherUser);
    await reader.subscribe(CONFIG_TOPIC);
    retainedEnvelope = (await reader.waitFor((m) => m.retain, 'retained envelope')).payload;
    expect(readEnvelope(retainedEnvelope).payload.version).toBe(2);
  }, 60000);

  it("does not let a worker instance's credentials publish a config, even its own service's", async () => {
    const watcher = await client(watcherUser);
    await watcher.subscribe(CONFIG_TOPIC);
    await watcher.subscribe('system/config/other-service');
    await watcher.waitFor((m) => m.retain && m.topic === CONFIG_TOPIC, 'retained envelope');

    const forger = await client(worker);
    const forged = Buffer.from(
      JSON.stringify({ alg: 'Ed25519', forged: randomBytes(8).toString('hex') }),
    );
    // QoS 1: the PUBACK comes after mosquitto has handled (here: dropped) each message, so a
    // delivery, had there been one, would be queued to the watcher before the marker below.
    await forger.publish(CONFIG_TOPIC, forged, true);
    await forger.publish('system/config/other-service', forged, true);

    const marker = await client(publisherUser);
    await marker.publish(CONFIG_TOPIC, 'marker-after-forgery', false);
    await watcher.waitFor((m) => m.payload.toString() === 'marker-after-forgery', 'marker');
    expect(watcher.messages.filter((m) => m.payload.equals(forged))).toEqual([]);
    expect(watcher.messages.filter((m) => m.topic === 'system/config/other-service')).toEqual([]);

    // A new subscriber gets exactly one retained message per topic: still the manager's v2.
    const fresh = await client(USERS.fresh);
    await fresh.subscribe(CONFIG_TOPIC);
    const retained = await fresh.waitFor((m) => m.retain, 'retained envelope');
    expect(retained.payload.equals(retainedEnvelope)).toBe(true);
  });

  it("lets a worker instance's credentials read its service's signed schema but not publish one", async () => {
    const worker = await client(USERS.worker);
    await worker.subscribe(SCHEMA_TOPIC);
    const retained = await worker.waitFor((m) => m.retain, 'retained schema');
    expect(readEnvelope(retained.payload).payload).toMatchObject({
      service: SERVICE,
      schemaVersion: 1,
    });

    const watcher = await client(watcherUser);
    await watcher.subscribe(SCHEMA_TOPIC);
    await watcher.waitFor((m) => m.retain, 'retained schema');
    const forged = Buffer.from(JSON.stringify({ alg: 'Ed25519', forged: true }));
    await worker.publish(SCHEMA_TOPIC, forged, true);
    await worker.publish(SCHEMA_TOPIC, Buffer.alloc(0), true);
    const marker = await client(publisherUser);
    await marker.publish(SCHEMA_TOPIC, 'marker-after-forgery', false);
    await watcher.waitFor((m) => m.payload.toString() === 'marker-after-forgery', 'marker');
    expect(
      watcher.messages.filter((m) => m.payload.equals(forged) || m.payload.length === 0),
    ).toEqual([]);
  });

  it("lets a worker instance's credentials read its service's candidate but not publish one, nor read another's", async () => {
    const candidateTopic = `system/candidate/${SERVICE}`;
    const publisher = await client(publisherUser);
    await publisher.publish(candidateTopic, 'candidate-retained', true);
    await publisher.publish('system/candidate/other-service', 'other-candidate', true);

    const own = await client(worker);
    await own.subscribe('system/candidate/other-service');
    await own.subscribe(candidateTopic);
    const retained = await own.waitFor((m) => m.retain, 'retained candidate');
    expect(retained).toMatchObject({ topic: candidateTopic });
    expect(retained.payload.toString()).toBe('candidate-retained');

    const watcher = await client(watcherUser);
    await watcher.subscribe(candidateTopic);
    await watcher.waitFor((m) => m.retain, 'retained candidate');
    await own.publish(candidateTopic, 'forged-candidate', true);
    await publisher.publish(candidateTopic, 'marker-after-forgery', false);
    await watcher.waitFor((m) => m.payload.toString() === 'marker-after-forgery', 'marker');
    expect(watcher.messages.map((m) => m.payload.toString())).not.toContain('forged-candidate');
    expect(own.messages.filter((m) => m.topic !== candidateTopic)).toEqual([]);
    await publisher.publish(candidateTopic, Buffer.alloc(0), true);
    await publisher.publish('system/candidate/other-service', Buffer.alloc(0), true);
  });

  it("does not let a worker instance's credentials read another service's config", async () => {
    const publisher = await client(publisherUser);
    await publisher.publish('system/config/other-service', 'other-retained', true);

    const snoop = await client(worker);
    // Subscribed one after the other: mosquitto queues a subscription's retained messages while
    // handling its SUBSCRIBE, so other-service's would arrive before dedup-worker's envelope.
    await snoop.subscribe('system/config/other-service');
    await snoop.subscribe(CONFIG_TOPIC);
    await snoop.waitFor((m) => m.retain && m.topic === CONFIG_TOPIC, 'own retained envelope');

    // Live: the same publisher, other-service first, then a marker the worker may read.
    await publisher.publish('system/config/other-service', 'other-live', false);
    await publisher.publish(CONFIG_TOPIC, 'marker-after-other', false);
    await snoop.waitFor((m) => m.payload.toString() === 'marker-after-other', 'marker');
    expect(snoop.messages.filter((m) => m.topic !== CONFIG_TOPIC)).toEqual([]);
    expect(snoop.messages.map((m) => m.payload.toString())).not.toContain('other-retained');
  });

  it("does not let a worker instance's credentials publish another service's health or the manager's", async () => {
    const watcher = await client(watcherUser);
    await watcher.subscribe('system/health/#');

    const w = await client(worker);
    await w.publish('system/health/other-service/x', 'forged-health', true);
    await w.publish('system/health/config-manager', 'forged-manager-health', true);
    // Its own health topic is allowed: published after the others on the same connection.
    await w.publish(OWN_HEALTH, 'own-health-marker', false);
    await watcher.waitFor((m) => m.payload.toString() === 'own-health-marker', 'own health');
    const forgedSeen = watcher.messages.filter((m) =>
      ['forged-health', 'forged-manager-health'].includes(m.payload.toString()),
    );
    expect(forgedSeen).toEqual([]);
  });

  it("does not let a worker instance's credentials write a sibling's health: live, retained or as a last will", async () => {
    const watcher = await client(watcherUser);
    await watcher.subscribe(`system/health/${SERVICE}/+`);
    const genuine = await client(sibling);
    await genuine.publish(SIBLING_HEALTH, 'sibling-genuine', true);
    await watcher.waitFor((m) => m.payload.toString() === 'sibling-genuine', 'genuine');

    const forgerId = `acl-forger-${randomBytes(4).toString('hex')}`;
    const forger = await client(worker, {
      clientId: forgerId,
      will: { topic: SIBLING_HEALTH, payload: Buffer.from('forged-will'), qos: 1, retain: true },
    });
    await forger.publish(SIBLING_HEALTH, 'forged-retained', true);
    await forger.publish(SIBLING_HEALTH, 'forged-live', false);
    // A second connection on the same client id (and user) ends the forger's session: the
    // broker handles its last will before it answers this CONNECT.
    const successor = await client(worker, { clientId: forgerId });
    await forger.waitForClose("the forger's connection");
    await successor.publish(OWN_HEALTH, 'marker-after-sibling-forgery', false);
    await watcher.waitFor((m) => m.payload.toString() === 'marker-after-sibling-forgery', 'marker');
    const forgedSeen = watcher.messages.filter((m) => m.payload.toString().startsWith('forged-'));
    expect(forgedSeen).toEqual([]);

    // A new subscriber gets the sibling's own retained status.
    const fresh = await client(USERS.fresh);
    await fresh.subscribe(SIBLING_HEALTH);
    const retained = await fresh.waitFor((m) => m.retain, "sibling's retained status");
    expect(retained.payload.toString()).toBe('sibling-genuine');
  });

  it("does not let a worker instance take over a sibling's client id: the broker uses the username", async () => {
    const watcher = await client(watcherUser);
    await watcher.subscribe(SIBLING_HEALTH);
    // libs/config-client connects as `<service>.<instanceId>`: predictable.
    const victim = await client(sibling, { clientId: `${SERVICE}.${SIBLING}` });

    // The broker answers each CONNECT only after it has ended any session on the same client id.
    const intruder = await client(worker, { clientId: `${SERVICE}.${SIBLING}` });
    const second = await client(worker, { clientId: sibling.username });

    // The sibling still has its connection: its QoS 1 publish is acknowledged and delivered.
    await within(
      victim.publish(SIBLING_HEALTH, 'sibling-still-connected', false),
      5000,
      "PUBACK to the sibling's publish",
    );
    await watcher.waitFor((m) => m.payload.toString() === 'sibling-still-connected', 'marker');
    expect(victim.closed).toBe(false);

    // Both intruders are `dedup-worker/w-acl` to the broker, whatever id they asked for: the
    // second one took over the first.
    await intruder.waitForClose("the first intruder's connection");
    expect(second.closed).toBe(false);
  });
});

describe('ops/mosquitto-passwords.sh', () => {
  let dir: string;
  const base = (): Record<string, string> => ({
    MQTT_ENV_FILE: join(dir, 'no-such.env'),
    // Root would chown to the image's uid 1883; keep the files this process's own.
    MOSQUITTO_UID: String(process.getuid?.() ?? 0),
    MOSQUITTO_GID: String(process.getgid?.() ?? 0),
  });
  const run = (env: Record<string, string>) =>
    runMosquittoPasswords([join(dir, 'passwords'), join(dir, 'acl')], { ...base(), ...env });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cm-mosquitto-passwords-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes one user per instance and replica, mode 0600, and the same ACL on every run', () => {
    const env = brokerUserEnv([
      user('config-manager'),
      user('config-manager/replica-2'),
      user('dedup-worker/dedup-worker-1'),
      user('dedup-worker/dedup-worker-2'),
      user('billing-sync/eu.1'),
    ]);
    expect(env).toMatchObject({
      MQTT_MANAGER_REPLICAS: 'replica-2',
      MQTT_WORKER_USERS:
        'dedup-worker/dedup-worker-1,dedup-worker/dedup-worker-2,billing-sync/eu.1',
    });
    expect(Object.keys(env).sort()).toEqual([
      'MQTT_MANAGER_PASSWORD',
      'MQTT_MANAGER_PASSWORD_REPLICA_2',
      'MQTT_MANAGER_REPLICAS',
      'MQTT_WORKER_PASSWORD_BILLING_SYNC__EU_1',
      'MQTT_WORKER_PASSWORD_DEDUP_WORKER__DEDUP_WORKER_1',
      'MQTT_WORKER_PASSWORD_DEDUP_WORKER__DEDUP_WORKER_2',
      'MQTT_WORKER_USERS',
    ]);

    run(env);
    const acl = readFileSync(join(dir, 'acl'), 'utf8');
    const usernames = () =>
      readFileSync(join(dir, 'passwords'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => line.slice(0, line.indexOf(':')));
    expect(usernames()).toEqual([
      'config-manager',
      'config-manager/replica-2',
      'dedup-worker/dedup-worker-1',
      'dedup-worker/dedup-worker-2',
      'billing-sync/eu.1',
    ]);
    expect(statSync(join(dir, 'passwords')).mode & 0o777).toBe(0o600);
    expect(acl).toMatch(/^pattern write system\/health\/%u$/m);
    expect(acl).toContain(
      'user config-manager/replica-2\ntopic readwrite system/config/#\ntopic readwrite system/schema/#\ntopic readwrite system/candidate/#\ntopic read system/health/#\n',
    );
    expect(acl).toContain(
      'user dedup-worker/dedup-worker-2\ntopic read system/config/dedup-worker\ntopic read system/schema/dedup-worker\ntopic read system/candidate/dedup-worker\n',
    );
    expect(acl).toContain(
      'user billing-sync/eu.1\ntopic read system/config/billing-sync\ntopic read system/schema/billing-sync\ntopic read system/candidate/billing-sync\n',
    );
    // No worker gets a wildcard: the pattern is its only write rule.
    expect(acl).not.toMatch(/^topic (write|readwrite) system\/health\/(?!config-manager$)/m);

    run(env);
    expect(readFileSync(join(dir, 'acl'), 'utf8')).toBe(acl);
    expect(usernames()).toHaveLength(5);
    expect(statSync(join(dir, 'passwords')).mode & 0o777).toBe(0o600);
  });

  it('writes the mqtt-bridge user (readwrite system/#) only when MQTT_BRIDGE_PASSWORD is set', () => {
    const env = brokerUserEnv([
      user('config-manager'),
      user('dedup-worker/dedup-worker-1'),
      user(BRIDGE_USERNAME),
    ]);
    expect(env.MQTT_BRIDGE_PASSWORD).toBeDefined();

    run(env);
    const acl = readFileSync(join(dir, 'acl'), 'utf8');
    expect(readFileSync(join(dir, 'passwords'), 'utf8')).toMatch(/^mqtt-bridge:/m);
    expect(acl).toContain('user mqtt-bridge\ntopic readwrite system/#\n');

    const without = Object.fromEntries(
      Object.entries(env).filter(([name]) => name !== 'MQTT_BRIDGE_PASSWORD'),
    );
    run(without);
    expect(readFileSync(join(dir, 'passwords'), 'utf8')).not.toMatch(/^mqtt-bridge:/m);
    expect(readFileSync(join(dir, 'acl'), 'utf8')).not.toContain('user mqtt-bridge');
  });

  const manager = { MQTT_MANAGER_PASSWORD: 'manager-password' };
  it.each([
    [
      "an instance id with ':'",
      { MQTT_WORKER_USERS: 'dedup-worker/w:1', MQTT_WORKER_PASSWORD_DEDUP_WORKER__W_1: 'p' },
      /MQTT_WORKER_USERS: 'dedup-worker\/w:1': instance id 'w:1' contains ':'/,
    ],
    [
      'an empty password',
      { MQTT_WORKER_USERS: 'dedup-worker/w-1', MQTT_WORKER_PASSWORD_DEDUP_WORKER__W_1: '' },
      /MQTT_WORKER_PASSWORD_DEDUP_WORKER__W_1 is empty/,
    ],
    [
      'a missing password',
      { MQTT_WORKER_USERS: 'dedup-worker/w-1' },
      /MQTT_WORKER_PASSWORD_DEDUP_WORKER__W_1 is not set .*dedup-worker\/w-1/,
    ],
    ['an empty manager password', { MQTT_MANAGER_PASSWORD: '' }, /MQTT_MANAGER_PASSWORD is empty/],
    ['an empty bridge password', { MQTT_BRIDGE_PASSWORD: '' }, /MQTT_BRIDGE_PASSWORD is empty/],
    [
      'a per-service user',
      { MQTT_DEDUP_WORKER_PASSWORD: 'p' },
      /MQTT_DEDUP_WORKER_PASSWORD would create the per-service user 'dedup-worker'/,
    ],
    [
      'a user without an instance',
      { MQTT_WORKER_USERS: 'dedup-worker' },
      /MQTT_WORKER_USERS: 'dedup-worker' is not <service>\/<instanceId>/,
    ],
    [
      'a bad service name',
      { MQTT_WORKER_USERS: 'Dedup/w-1' },
      /MQTT_WORKER_USERS: 'Dedup\/w-1': service 'Dedup'/,
    ],
    [
      'the manager as a worker service',
      { MQTT_WORKER_USERS: 'config-manager/w-1' },
      /MQTT_WORKER_USERS: 'config-manager\/w-1'/,
    ],
    [
      'two users on one password variable',
      {
        MQTT_WORKER_USERS: 'dedup-worker/w-1,dedup-worker/w.1',
        MQTT_WORKER_PASSWORD_DEDUP_WORKER__W_1: 'p',
      },
      /both need the password variable MQTT_WORKER_PASSWORD_DEDUP_WORKER__W_1/,
    ],
    [
      'a password no declared user needs',
      { MQTT_WORKER_PASSWORD_DEDUP_WORKER__W_9: 'p' },
      /MQTT_WORKER_PASSWORD_DEDUP_WORKER__W_9 is set but no user in MQTT_WORKER_USERS needs it/,
    ],
    [
      "a replica with ':'",
      { MQTT_MANAGER_REPLICAS: 'r:2', MQTT_MANAGER_PASSWORD_R_2: 'p' },
      /MQTT_MANAGER_REPLICAS: replica 'r:2' contains ':'/,
    ],
  ])('refuses %s, naming the variable, and writes nothing', (_, env, message) => {
    expect(() => run({ ...manager, ...env })).toThrow(message);
    expect(existsSync(join(dir, 'passwords'))).toBe(false);
    expect(existsSync(join(dir, 'acl'))).toBe(false);
  });
});
