import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { connectAsync, type MqttClient } from 'mqtt';
import { Etcd3 } from 'etcd3';
import { defaultConfig, findServiceDefinition, validateConfig } from '@app/contracts';
import { Ed25519Verifier, formatKeyList, generateBoxKeyPair } from '@app/crypto';
import {
  DEFAULT_MAX_ENVELOPE_BYTES,
  EnvelopeVerifier,
  readSignedEnvelope,
} from '@app/config-client';
import type { Figure, SuiteResult } from '../lib/report';
import { summarize, timeEach } from '../lib/stats';
import { BENCH_TOKEN, type ManagerProcess, startManagerProcess } from '../lib/manager-process';
import { startBenchMosquitto } from '../lib/mosquitto';
import { connectionsTo, etcdMissing, processCpuMs, startEtcd } from '../lib/etcd';
import { openNatsBucket } from '../lib/nats-kv';
import {
  cpuProfileArgs,
  forkHost,
  HOST_READY_TIMEOUT_MS,
  nextMessage,
  startFleet,
  stopFleet,
  stopHost,
} from '../lib/hosts';
import type { PeerWatchConfig, PeerWatchMessage } from '../lib/peer-watch-host';

const ROUNDS = Number(process.env.BENCH_PEERS_ROUNDS ?? 300);
const WARM_UP = Number(process.env.BENCH_PEERS_WARMUP ?? 30);
const FLEET = Number(process.env.BENCH_PEERS_FLEET ?? 1000);
const FLEET_ROUNDS = Number(process.env.BENCH_PEERS_FLEET_ROUNDS ?? 20);
const FLEET_WARM_UP = 3;
const MICRO_ROUNDS = Number(process.env.BENCH_PEERS_MICRO_ROUNDS ?? 2000);
const PER_PROCESS = 250;
const ROUND_TIMEOUT_MS = Number(process.env.BENCH_PEERS_TIMEOUT_MS ?? 30000);
const SERVICE = 'dedup-worker';
const AUTH = { Authorization: `Bearer ${BENCH_TOKEN}` };

interface Latency {
  median: number;
  p99: number;
  n: number;
}

/** What one system measured; undefined fields were not measured (skipped). */
interface SystemFigures {
  one?: Latency;
  fleet?: Latency;
  /** Ours only: the same rounds, timed to the ConfigClient's accepted event in its own process. */
  oneInWorker?: Latency;
  fleetInWorker?: Latency;
  /** Manager (ours) or server (peers) CPU per change, ms. */
  serverCpuPerChange?: number;
  /** Worker (ours) or watcher (peers) CPU per applied version / received event, ms. */
  clientCpuOne?: number;
  clientCpuFleet?: number;
  skipped?: string;
  notes: string[];
}

function deadline<T>(promise: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what()} within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------------------------------------
// Ours: a manager process, mosquitto, ConfigClients in fleet-host processes.

/** Health reports of simulated workers, and waiting until a set of them applied a version. */
class HealthWatch {
  private readonly applied = new Map<string, { version: number; at: number }>();
  private waiting:
    | { version: number; ids: ReadonlySet<string>; remaining: number; resolve(at: number): void }
    | undefined;

  constructor(
    private readonly prefix: string,
    client: MqttClient,
  ) {
    client.on('message', (topic, payload) => {
      if (!topic.startsWith(`${this.prefix}system/health/${SERVICE}/`) || payload.length === 0) {
        return;
      }
      const at = performance.now();
      const health = JSON.parse(payload.toString()) as {
        instanceId: string;
        appliedVersion: number | null;
      };
      const version = health.appliedVersion ?? 0;
      const before = this.applied.get(health.instanceId)?.version ?? 0;
      if (version <= before) return;
      this.applied.set(health.instanceId, { version, at });
      const w = this.waiting;
      if (w && w.ids.has(health.instanceId) && before < w.version && version >= w.version) {
        w.remaining -= 1;
        if (w.remaining === 0) {
          this.waiting = undefined;
          w.resolve(at);
        }
      }
    });
  }

  /** When (performance.now()) the last of `ids` reported `version` (or later) applied. */
  waitApplied(ids: readonly string[], version: number, timeoutMs: number): Promise<number> {
    let remaining = 0;
    let latest = 0;
    for (const id of ids) {
      const state = this.applied.get(id);
      if (!state || state.version < version) remaining += 1;
      else latest = Math.max(latest, state.at);
    }
    if (remaining === 0) return Promise.resolve(latest);
    const reached = new Promise<number>((resolve) => {
      this.waiting = { version, ids: new Set(ids), remaining, resolve };
    });
    return deadline(reached, timeoutMs, () => {
      const missing = this.waiting?.remaining ?? 0;
      this.waiting = undefined;
      return `${missing} of ${ids.length} workers did not report v${version} applied`;
    });
  }
}

async function managerCpuSeconds(manager: ManagerProcess): Promise<number> {
  const text = await (await fetch(`${manager.url}/metrics`)).text();
  const match = /^process_cpu_seconds_total (\S+)$/m.exec(text);
  if (!match) throw new Error('the manager /metrics has no process_cpu_seconds_total');
  return Number(match[1]);
}

interface Micro {
  full: Latency;
  read: Latency;
  validate: Latency;
  bytes: number;
  isDefault: boolean;
}

async function measureOurs(): Promise<SystemFigures & { micro: Micro }> {
  const definition = findServiceDefinition(SERVICE);
  if (!definition) throw new Error(`${SERVICE} is not registered`);
  const recipient = generateBoxKeyPair();
  const prefix = `peers${randomBytes(3).toString('hex')}/`;
  const configTopic = `${prefix}system/config/${SERVICE}`;
  const lkgDir = mkdtempSync(join(tmpdir(), 'cm-peers-'));
  const mosquitto = await startBenchMosquitto();
  let manager: ManagerProcess | undefined;
  let watcher: MqttClient | undefined;
  let hosts: ChildProcess[] = [];
  let instances = 0;
  try {
    manager = await startManagerProcess(
      {
        MQTT_URL: mosquitto.url,
        MQTT_TOPIC_PREFIX: prefix,
        SERVICE_RECIPIENT_KEYS: formatKeyList([{ id: SERVICE, key: recipient.publicKey }]),
      },
      cpuProfileArgs(),
    );
    const mqtt = await connectAsync(mosquitto.url);
    watcher = mqtt;
    const health = new HealthWatch(prefix, mqtt);
    // The envelope the manager published on start (version 1): the micro benchmark's input.
    const firstEnvelope = new Promise<Buffer>((resolve) => {
      const onMessage = (topic: string, payload: Buffer) => {
        if (topic !== configTopic || payload.length === 0) return;
        mqtt.off('message', onMessage);
        resolve(payload);
      };
      mqtt.on('message', onMessage);
    });
    await mqtt.subscribeAsync(configTopic, { qos: 1 });
    await mqtt.subscribeAsync(`${prefix}system/health/${SERVICE}/+`, { qos: 1 });
    const envelope = await deadline(
      firstEnvelope,
      ROUND_TIMEOUT_MS,
      () => `no retained envelope on ${configTopic}`,
    );
    const keys = (await (await fetch(`${manager.url}/api/keys`)).json()) as {
      signing: Array<{ kid: string; publicKey: string }>;
    };
    const trusted = new Map([
      [keys.signing[0].kid, Buffer.from(keys.signing[0].publicKey, 'base64')],
    ]);

    // Figure 3c: exactly what ConfigClient does to an incoming envelope before applying it.
    const verifier = new EnvelopeVerifier({
      service: SERVICE,
      definition,
      trustedKeys: trusted,
      secretKey: recipient.secretKey,
    });
    const context = { topicService: SERVICE, appliedVersion: 0 };
    const verdict = verifier.verify(envelope, context);
    if (verdict.kind !== 'accepted') {
      throw new Error(`the manager's envelope is not accepted: ${JSON.stringify(verdict)}`);
    }
    const verifiers = new Map([...trusted].map(([kid, key]) => [kid, new Ed25519Verifier(key)]));
    const reading = readSignedEnvelope(envelope, verifiers, DEFAULT_MAX_ENVELOPE_BYTES);
    if (!reading.ok) throw new Error(`the manager's envelope does not read: ${reading.detail}`);
    const rawConfig = reading.payload.config;
    const micro: Micro = {
      full: summarize(
        timeEach(MICRO_ROUNDS, () => verifier.verify(envelope, context)),
        4,
      ),
      read: summarize(
        timeEach(MICRO_ROUNDS, () =>
          readSignedEnvelope(envelope, verifiers, DEFAULT_MAX_ENVELOPE_BYTES),
        ),
        4,
      ),
      validate: summarize(
        timeEach(MICRO_ROUNDS, () => validateConfig(definition, rawConfig)),
        4,
      ),
      bytes: envelope.length,
      isDefault: isDeepStrictEqual(rawConfig, defaultConfig(definition)),
    };

    let change = 0;
    const patch = async (): Promise<number> => {
      change += 1;
      const res = await fetch(`${manager?.url}/api/services/${SERVICE}/config`, {
        method: 'PATCH',
        headers: { ...AUTH, 'Content-Type': 'application/json' },
        body: JSON.stringify({ cluster: { max_cluster_size: 3 + (change % 40) } }),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`PATCH answered ${res.status}: ${text.slice(0, 300)}`);
      return (JSON.parse(text) as { version: number }).version;
    };
    const fleetBase = {
      mqttUrl: mosquitto.url,
      topicPrefix: prefix,
      trustedKid: keys.signing[0].kid,
      trustedKey: keys.signing[0].publicKey,
      secretKey: recipient.secretKey.toString('base64'),
      hmacKey: randomBytes(32).toString('base64'),
      lkgDir,
      reportApplied: true,
    };

    // Figure 1: one worker; the clock runs from sending the PATCH to its applied report.
    const one = ['bench-0'];
    hosts = await startFleet(0, 1, fleetBase, { perProcess: PER_PROCESS });
    instances = 1;
    let inWorker = new HostProgress(hosts, 'applied');
    await health.waitApplied(one, 1, ROUND_TIMEOUT_MS);
    const oneSamples: number[] = [];
    const oneInWorker: number[] = [];
    let cpuBefore = 0;
    for (let round = 0; round < WARM_UP + ROUNDS; round++) {
      if (round === WARM_UP) cpuBefore = await managerCpuSeconds(manager);
      const sentHr = process.hrtime.bigint();
      const sent = performance.now();
      const version = await patch();
      const at = await health.waitApplied(one, version, ROUND_TIMEOUT_MS);
      const appliedAt = await inWorker.wait(version, 'the worker (its own clock)');
      if (round >= WARM_UP) {
        oneSamples.push(at - sent);
        oneInWorker.push(Number(appliedAt - sentHr) / 1e6);
      }
    }
    const managerCpuMs = ((await managerCpuSeconds(manager)) - cpuBefore) * 1000;
    const oneUsage = await stopFleet(hosts);
    hosts = [];

    // Figure 2: the fleet; the clock runs from the PATCH response to the last applied report.
    const ids = Array.from({ length: FLEET }, (_, i) => `bench-${1 + i}`);
    hosts = await startFleet(1, FLEET, fleetBase, { perProcess: PER_PROCESS });
    instances = 1 + FLEET;
    inWorker = new HostProgress(hosts, 'applied');
    let version = await patch();
    await health.waitApplied(ids, version, ROUND_TIMEOUT_MS);
    const fleetSamples: number[] = [];
    const fleetInWorker: number[] = [];
    for (let round = 0; round < FLEET_WARM_UP + FLEET_ROUNDS; round++) {
      version = await patch();
      const respondedHr = process.hrtime.bigint();
      const responded = performance.now();
      const at = await health.waitApplied(ids, version, ROUND_TIMEOUT_MS);
      const appliedAt = await inWorker.wait(version, `the ${FLEET} workers (their own clocks)`);
      if (round >= FLEET_WARM_UP) {
        fleetSamples.push(Math.max(0, at - responded));
        fleetInWorker.push(Math.max(0, Number(appliedAt - respondedHr) / 1e6));
      }
    }
    const fleetUsage = await stopFleet(hosts);
    hosts = [];
    return {
      one: summarize(oneSamples, 2),
      fleet: summarize(fleetSamples, 1),
      oneInWorker: summarize(oneInWorker, 2),
      fleetInWorker: summarize(fleetInWorker, 1),
      serverCpuPerChange: managerCpuMs / ROUNDS,
      clientCpuOne: oneUsage.applies > 0 ? oneUsage.cpuMs / oneUsage.applies : undefined,
      clientCpuFleet: fleetUsage.applies > 0 ? fleetUsage.cpuMs / fleetUsage.applies : undefined,
      micro,
      notes: [
        `ours: config-manager in its own process (SQLite, journal_mode WAL, synchronous NORMAL: committed before the response, no fsync per commit), mosquitto of the bench's own (TCP_NODELAY, no persistence), simulated workers are ConfigClients (own MQTT connection, signature check, validation, sealed-secret opening, last-known-good write, retained health report) in fleet-host processes of up to ${PER_PROCESS}; the bench process sends the PATCHes and reads the health reports over MQTT`,
        `ours, 1 worker: ${ROUNDS} sequential PATCHes after ${WARM_UP} warm-up, each timed from sending the request to the health report saying appliedVersion = the new version; ${FLEET} workers in ${Math.ceil(FLEET / PER_PROCESS)} processes: ${FLEET_ROUNDS} PATCHes after ${FLEET_WARM_UP} warm-up, timed from the PATCH response to the last of the ${FLEET} applied reports`,
        "ours 'to the accepted event': the same rounds, timed to the ConfigClient's accepted event taken with process.hrtime in the fleet-host process (after verification and the retained health report's publish call; the last-known-good write is queued, not awaited, at that point), the way the peers' watch events are timed; the peers' columns repeat their figures",
        `manager CPU per PATCH: process_cpu_seconds_total from the manager's GET /metrics before and after the ${ROUNDS} measured one-worker rounds, divided by ${ROUNDS} (includes handling that worker's health reports); worker CPU per applied version: process.cpuUsage() of the fleet-host processes from ready to stop, divided by the versions their clients accepted (this includes writing the last-known-good file and publishing the health report; a peer watcher only receives and parses)`,
        `verify + validate: EnvelopeVerifier.verify (rules 0-6: size, parse, Ed25519 signature, service, version, expiry, schema validation, sealed-secret opening) on the ${micro.bytes}-byte envelope the manager signed and retained on start (version 1, ${micro.isDefault ? 'the default config' : 'not byte-equal to defaultConfig()'}), in process, ${MICRO_ROUNDS} rounds after 100 warm-up`,
      ],
    };
  } finally {
    await Promise.all(hosts.map((h) => stopFleet([h]).catch(() => undefined)));
    // The manager first: it would republish a config whose retained copy is cleared under it.
    await manager?.stop().catch((error: unknown) => console.error('stopping the manager:', error));
    const mqtt = watcher;
    if (mqtt) {
      const topics = [
        configTopic,
        `${prefix}system/health/config-manager`,
        ...Array.from(
          { length: instances },
          (_, i) => `${prefix}system/health/${SERVICE}/bench-${i}`,
        ),
      ];
      await Promise.all(
        topics.map((t) => mqtt.publishAsync(t, Buffer.alloc(0), { qos: 1, retain: true })),
      ).catch(() => undefined);
      await mqtt.endAsync().catch(() => undefined);
    }
    await mosquitto.destroy();
    rmSync(lkgDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Peers: watchers in peer-watch-host processes, a writer in this one.

interface PeerTarget {
  name: string;
  kind: PeerWatchConfig['kind'];
  url: string;
  key: string;
  bucket?: string;
  /** Resolves once the server acknowledged the put. */
  put(version: number): Promise<void>;
  serverPid?: number;
  /** TCP connections to the server now (etcd: counted in /proc/net/tcp), for the notes. */
  connections?: () => number;
}

/**
 * The newest version every watcher (or client) of each host has seen, from the hosts' own
 * { kind, version, at } messages, `at` taken with process.hrtime.bigint() in the host.
 */
class HostProgress {
  private readonly seen = new Map<ChildProcess, { version: number; at: bigint }>();
  private check: (() => void) | undefined;

  constructor(hosts: readonly ChildProcess[], kind: 'seen' | 'applied') {
    for (const host of hosts) {
      this.seen.set(host, { version: 0, at: 0n });
      host.on('message', (m: { kind?: string; version?: number; at?: string }) => {
        if (m?.kind !== kind || m.version === undefined || m.at === undefined) return;
        this.seen.set(host, { version: m.version, at: BigInt(m.at) });
        this.check?.();
      });
    }
  }

  /** The hrtime at which the last of them received `version` (or a later one). */
  wait(version: number, what: string): Promise<bigint> {
    const reached = new Promise<bigint>((resolve) => {
      this.check = () => {
        let latest = 0n;
        for (const state of this.seen.values()) {
          if (state.version < version) return;
          if (state.at > latest) latest = state.at;
        }
        this.check = undefined;
        resolve(latest);
      };
      this.check();
    });
    return deadline(reached, ROUND_TIMEOUT_MS, () => {
      this.check = undefined;
      const at = [...this.seen.values()].map((s) => s.version).join(', ');
      return `${what}: not every one saw version ${version} (hosts at ${at})`;
    });
  }
}

/** Watcher processes of one peer and the newest version each has seen on every watcher. */
class WatchGroup {
  private readonly progress: HostProgress;

  private constructor(readonly hosts: ChildProcess[]) {
    this.progress = new HostProgress(hosts, 'seen');
  }

  static async start(target: PeerTarget, count: number): Promise<WatchGroup> {
    const hosts: ChildProcess[] = [];
    try {
      for (let offset = 0; offset < count; offset += PER_PROCESS) {
        const config: PeerWatchConfig = {
          kind: target.kind,
          url: target.url,
          key: target.key,
          bucket: target.bucket,
          count: Math.min(PER_PROCESS, count - offset),
        };
        const host = forkHost('peer-watch-host.ts', { PEER_WATCH_CONFIG: JSON.stringify(config) });
        hosts.push(host);
        await nextMessage(
          host,
          (m) => ((m as PeerWatchMessage).kind === 'ready' ? true : undefined),
          HOST_READY_TIMEOUT_MS,
          `${target.name} watcher host ${hosts.length}`,
        );
      }
    } catch (error) {
      await new WatchGroup(hosts).stop();
      throw error;
    }
    return new WatchGroup(hosts);
  }

  /** The hrtime at which the last watcher received `version` (or a later one). */
  waitSeen(version: number, what: string): Promise<bigint> {
    return this.progress.wait(version, what);
  }

  /** Stops every host; CPU (ms) and events they received since ready. */
  async stop(): Promise<{ cpuMs: number; events: number }> {
    const reports = await Promise.all(
      this.hosts.map((host) =>
        stopHost(host, (m) => ((m as PeerWatchMessage).kind === 'stopped' ? m : undefined)),
      ),
    );
    let cpuMs = 0;
    let events = 0;
    for (const r of reports) {
      if (r && (r as PeerWatchMessage).kind === 'stopped') {
        const stopped = r as Extract<PeerWatchMessage, { kind: 'stopped' }>;
        cpuMs += stopped.cpuMs;
        events += stopped.events;
      }
    }
    return { cpuMs, events };
  }
}

async function measurePeer(peer: PeerTarget): Promise<SystemFigures> {
  const target: PeerTarget = {
    ...peer,
    put: (version) =>
      deadline(
        peer.put(version).catch((error: unknown) => {
          throw new Error(
            `${peer.name}: the put of version ${version} failed: ${error instanceof Error ? error.message : String(error)}`,
          );
        }),
        ROUND_TIMEOUT_MS,
        () => `${peer.name}: the put of version ${version} was not acknowledged`,
      ),
  };
  const notes: string[] = [];
  let version = 0;
  // Figure 1: one watcher in another process; put sent -> watch event received.
  const single = await WatchGroup.start(target, 1);
  let oneSamples: number[] = [];
  let serverCpu: number | undefined;
  let oneUsage: { cpuMs: number; events: number };
  try {
    let cpuBefore: number | undefined;
    for (let round = 0; round < WARM_UP + ROUNDS; round++) {
      if (round === WARM_UP && target.serverPid) cpuBefore = processCpuMs(target.serverPid);
      version += 1;
      const sent = process.hrtime.bigint();
      await target.put(version);
      const at = await single.waitSeen(version, `${target.name}, 1 watcher`);
      if (round >= WARM_UP) oneSamples.push(Number(at - sent) / 1e6);
    }
    const cpuAfter = target.serverPid ? processCpuMs(target.serverPid) : undefined;
    if (cpuBefore !== undefined && cpuAfter !== undefined) {
      serverCpu = (cpuAfter - cpuBefore) / ROUNDS;
    }
  } finally {
    oneUsage = await single.stop();
  }
  oneSamples = oneSamples.filter((s) => Number.isFinite(s));

  // Figure 2: FLEET watchers, PER_PROCESS per process, each with its own connection.
  const fleet = await WatchGroup.start(target, FLEET);
  const fleetSamples: number[] = [];
  let fleetUsage: { cpuMs: number; events: number };
  try {
    if (target.connections) {
      notes.push(
        `${target.name}: ${target.connections()} established TCP connections to the server with the ${FLEET} watchers up (from /proc/net/tcp)`,
      );
    }
    for (let round = 0; round < FLEET_WARM_UP + FLEET_ROUNDS; round++) {
      version += 1;
      await target.put(version);
      const acked = process.hrtime.bigint();
      const at = await fleet.waitSeen(version, `${target.name}, ${FLEET} watchers`);
      if (round >= FLEET_WARM_UP) fleetSamples.push(Math.max(0, Number(at - acked) / 1e6));
    }
  } finally {
    fleetUsage = await fleet.stop();
  }
  return {
    one: summarize(oneSamples, 2),
    fleet: summarize(fleetSamples, 1),
    serverCpuPerChange: serverCpu,
    clientCpuOne: oneUsage.events > 0 ? oneUsage.cpuMs / oneUsage.events : undefined,
    clientCpuFleet: fleetUsage.events > 0 ? fleetUsage.cpuMs / fleetUsage.events : undefined,
    notes,
  };
}

async function measureEtcd(): Promise<SystemFigures> {
  const missing = etcdMissing();
  if (missing) {
    console.error(missing);
    return { skipped: missing, notes: [] };
  }
  const server = await startEtcd();
  const writer = new Etcd3({ hosts: server.url });
  const key = `bench/peers/${randomBytes(4).toString('hex')}`;
  try {
    const port = Number(new URL(server.url).port);
    const figures = await measurePeer({
      name: 'etcd',
      kind: 'etcd',
      url: server.url,
      key,
      put: async (version) => {
        await writer.put(key).value(String(version));
      },
      serverPid: server.pid,
      // The writer's connection is one of them.
      connections: () => connectionsTo(port),
    });
    figures.notes.unshift(
      `etcd: ${server.version}, one member started by the bench on loopback (temp data dir, defaults: WAL fsync on every commit), etcd3 ${etcd3Version()} (grpc-js) clients; each watcher is its own Etcd3 client with 'grpc.use_local_subchannel_pool': 1 (its own TCP connection), watching one key; the writer is one more client in the bench process; 1 watcher: put sent -> watch event received; ${FLEET} watchers: put acknowledged -> the last watcher received the event, times taken with process.hrtime (the machine's monotonic clock) in the watcher processes`,
    );
    return figures;
  } finally {
    await writer
      .delete()
      .key(key)
      .catch(() => undefined);
    writer.close();
    await server.stop();
  }
}

async function measureNats(): Promise<SystemFigures> {
  const opened = await openNatsBucket();
  if ('skipped' in opened) {
    console.error(opened.skipped);
    return { skipped: opened.skipped, notes: [] };
  }
  const key = 'config';
  try {
    const figures = await measurePeer({
      name: 'NATS',
      kind: 'nats',
      url: opened.url,
      key,
      bucket: opened.bucket,
      put: async (version) => {
        await opened.kv.put(key, String(version));
      },
      serverPid: opened.serverPid,
    });
    figures.notes.unshift(
      `NATS: nats-server ${opened.serverVersion} of the machine (${opened.url}, shared with other users: its CPU figure may include theirs), JetStream KV bucket ${opened.bucket} (history 1, file storage, JetStream's default sync: not fsync per put) deleted afterwards, nats.js ${natsVersion()}; each watcher has its own connection and kv.watch() on one key; timed as for etcd (put sent / put acknowledged by JetStream -> watch update received)`,
    );
    return figures;
  } finally {
    await opened.destroy().catch((error: unknown) => {
      console.error(`could not delete NATS bucket ${opened.bucket}:`, error);
    });
  }
}

function packageVersion(name: string): string {
  let dir = dirname(require.resolve(name));
  for (let up = 0; up < 4; up++, dir = dirname(dir)) {
    try {
      const found = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version: string;
      };
      if (found.name === name) return found.version;
    } catch {
      // not here
    }
  }
  return '(version unknown)';
}

const etcd3Version = () => packageVersion('etcd3');
const natsVersion = () => packageVersion('nats');

// ---------------------------------------------------------------------------------------------

const ms = (v: number | undefined, digits = 2) =>
  v === undefined ? 'skipped' : `${v.toFixed(digits)} ms`;

function ratio(ours: number | undefined, peer: number | undefined): number | undefined {
  return ours === undefined || peer === undefined || peer === 0 ? undefined : ours / peer;
}

function ratioCell(ours: number | undefined, etcd: number | undefined, nats: number | undefined) {
  const e = ratio(ours, etcd);
  const n = ratio(ours, nats);
  return [
    e === undefined ? 'etcd n/a' : `${e.toFixed(2)}× etcd`,
    n === undefined ? 'NATS n/a' : `${n.toFixed(2)}× NATS`,
  ].join(' · ');
}

function verdict(met: boolean | undefined): string {
  return met === undefined ? '' : met ? ' (met)' : ' (missed)';
}

/** Issue 18: our push beside etcd's watch and NATS KV's watch, measured in the same run. */
export async function peersBench(): Promise<SuiteResult> {
  console.error('peers: ours (manager, mosquitto, ConfigClients)…');
  const ours = await measureOurs();
  console.error('peers: etcd…');
  const etcd = await measureEtcd();
  console.error('peers: NATS JetStream KV…');
  const nats = await measureNats();

  const row = (
    name: string,
    pick: (s: SystemFigures) => number | undefined,
    target?: { factor: number },
    digits = 2,
  ): Figure => {
    const o = pick(ours);
    const e = pick(etcd);
    const r = ratio(o, e);
    return {
      name,
      value: o ?? 'n/a',
      unit: 'ms',
      cells: [ms(o, digits), ms(e, digits), ms(pick(nats), digits), ratioCell(o, e, pick(nats))],
      target: target
        ? `≤ ${target.factor}× etcd${verdict(r === undefined ? undefined : r <= target.factor)}`
        : undefined,
    };
  };
  const own = (name: string, value: number | undefined, limit?: number, peers = ['—', '—']) => ({
    name,
    value: value ?? 'n/a',
    unit: 'ms',
    cells: [ms(value, 4), ...peers, ''],
    target:
      limit === undefined
        ? undefined
        : `≤ ${limit} ms${verdict(value === undefined ? undefined : value <= limit)}`,
  });
  const workers = `${FLEET.toLocaleString('en')} workers (${Math.ceil(FLEET / PER_PROCESS)} processes × ${PER_PROCESS})`;
  const figures: Figure[] = [
    row('1 change → 1 worker: median', (s) => s.one?.median, { factor: 1.5 }),
    row('1 change → 1 worker: p99', (s) => s.one?.p99, { factor: 2 }),
    row(`1 change → ${workers}: median`, (s) => s.fleet?.median, { factor: 2 }, 1),
    row(`1 change → ${workers}: p99`, (s) => s.fleet?.p99, undefined, 1),
    row(
      '1 change → 1 worker, ours to the accepted event in the worker (no report trip): median',
      (s) => (s === ours ? s.oneInWorker?.median : s.one?.median),
    ),
    row('1 change → 1 worker, ours to the accepted event in the worker: p99', (s) =>
      s === ours ? s.oneInWorker?.p99 : s.one?.p99,
    ),
    row(
      `1 change → ${workers}, ours to the last accepted event in a worker: median`,
      (s) => (s === ours ? s.fleetInWorker?.median : s.fleet?.median),
      undefined,
      1,
    ),
    row(
      `1 change → ${workers}, ours to the last accepted event in a worker: p99`,
      (s) => (s === ours ? s.fleetInWorker?.p99 : s.fleet?.p99),
      undefined,
      1,
    ),
    {
      ...row(
        'CPU per change: our manager per PATCH / etcd, NATS server per put',
        (s) => s.serverCpuPerChange,
        undefined,
        3,
      ),
      target: `ours ≤ 1 ms${verdict(ours.serverCpuPerChange === undefined ? undefined : ours.serverCpuPerChange <= 1)}`,
    },
    {
      ...row(
        'CPU per applied version, 1 worker / per watch event, 1 watcher',
        (s) => s.clientCpuOne,
        undefined,
        3,
      ),
      target: `ours ≤ 0.3 ms${verdict(ours.clientCpuOne === undefined ? undefined : ours.clientCpuOne <= 0.3)}`,
    },
    {
      ...row(
        `CPU per applied version, ${workers} / per watch event, as many watchers`,
        (s) => s.clientCpuFleet,
        undefined,
        3,
      ),
      target: `ours ≤ 0.3 ms${verdict(ours.clientCpuFleet === undefined ? undefined : ours.clientCpuFleet <= 0.3)}`,
    },
    own(
      'verify + validate one envelope (EnvelopeVerifier.verify): median',
      ours.micro.full.median,
      0.15,
    ),
    own('verify + validate one envelope: p99', ours.micro.full.p99),
    own(
      '… of which envelope read + Ed25519 verify (readSignedEnvelope): median',
      ours.micro.read.median,
    ),
    own('… of which validateConfig: median', ours.micro.validate.median),
  ];
  const notes = [
    'columns: ours | etcd | NATS JetStream KV; ratio = ours / peer (the targets are against etcd); all three measured one after the other in this run',
    ...ours.notes,
    ...(etcd.skipped ? [etcd.skipped] : etcd.notes),
    ...(nats.skipped ? [nats.skipped] : nats.notes),
    `etcd and NATS server CPU per put: utime + stime from /proc/<pid>/stat (10 ms ticks) before and after the ${ROUNDS} one-watcher puts, divided by ${ROUNDS}; watcher CPU per event: process.cpuUsage() of the watcher processes from ready to stop, divided by the events they received`,
    'the machine may be shared (see the load average above): absolute figures are load-sensitive; the three systems ran one after the other within a few minutes, so a ratio compares them under similar load',
  ];
  return {
    suite: 'beside etcd and NATS JetStream KV',
    issue: 'issue 18',
    columns: ['ours', 'etcd', 'NATS', 'ratio'],
    figures,
    notes,
  };
}
