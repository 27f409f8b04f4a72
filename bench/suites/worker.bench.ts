// Issue 18, worker side: what one applied version costs a worker, and how fast a worker is
// ready from its last-known-good file.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connectAsync } from 'mqtt';
import { parseConfigTopic } from '@app/contracts';
import { formatKeyList, generateBoxKeyPair } from '@app/crypto';
import { ConfigClient, EnvelopeVerifier, LastKnownGoodStore } from '@app/config-client';
import { freePort } from '@app/testing';
import {
  buildEnvelope,
  configWithModel,
  createTestKeys,
  dedupWorkerDefinition,
  trustedKeysOf,
} from '../../libs/config-client/test/support/envelope-factory';
import type { SuiteResult } from '../lib/report';
import { summarize, timeEach } from '../lib/stats';
import { BENCH_TOKEN, startManagerProcess } from '../lib/manager-process';
import { startBenchMosquitto } from '../lib/mosquitto';
import { appEntry, cpuProfileArgs, startFleet, stopFleet } from '../lib/hosts';

const ROOT = resolve(__dirname, '..', '..');
const SERVICE = 'dedup-worker';
const VERIFY_ROUNDS = Number(process.env.BENCH_WORKER_VERIFY_ROUNDS ?? 5000);
const FLEET = Number(process.env.BENCH_WORKER_CLIENTS ?? 100);
const PATCHES = Number(process.env.BENCH_WORKER_PATCHES ?? 30);
const READY_ROUNDS = Number(process.env.BENCH_WORKER_READY_ROUNDS ?? 5);
const AUTH = { Authorization: `Bearer ${BENCH_TOKEN}` };
// Which parts to run (BENCH_WORKER_PARTS=a,b,c; default all): a verify, b fleet CPU, c ready.
const PARTS = new Set((process.env.BENCH_WORKER_PARTS ?? 'a,b,c').split(','));

/** Issue 18 (worker): verify + validate, CPU per applied version, ready from last-known-good. */
export async function workerBench(): Promise<SuiteResult> {
  const figures: SuiteResult['figures'] = [];
  const notes: string[] = [];
  if (PARTS.has('a')) figures.push(...verifyFigures());
  if (PARTS.has('c')) {
    figures.push(...(await inProcessReadyFigures()));
    const worker = await workerProcessReadyFigures();
    figures.push(...worker.figures);
    notes.push(worker.note);
  }
  if (PARTS.has('b')) figures.push(...(await fleetCpuFigures()));
  notes.push(
    '(a) is EnvelopeVerifier.verify() as ConfigClient runs it on a config message (topic parse, rules 0-6: ' +
      'size, envelope JSON, base64, Ed25519, payload JSON, service/version/expiry, Ajv validation, secrets), ' +
      `${VERIFY_ROUNDS} rounds after a warm-up, each on a fresh envelope of the dedup-worker schema`,
    `(b) ${FLEET} ConfigClients in one process (bench/lib/fleet-host.ts: own MQTT connection, LKG file, health) on mosquitto with a manager process; ` +
      `${PATCHES} PATCHes, each waited for until every client reported it applied; process CPU (user + system) since the fleet was ready / versions applied`,
  );
  return { suite: 'worker SDK', issue: 'issue 18', figures, notes };
}

// (a) The exact steps ConfigClient.onConfigMessage runs before accept(): topic -> service, verify().
function verifyFigures(): SuiteResult['figures'] {
  const keys = createTestKeys();
  const definition = dedupWorkerDefinition();
  const figures: SuiteResult['figures'] = [];
  const variants: Array<{ name: string; secrets?: Record<string, string> }> = [
    { name: 'no secrets' },
    ...(definition.secretPaths.length > 0
      ? [
          {
            name: `${definition.secretPaths.length} sealed secret(s)`,
            secrets: secretsOf(definition.secretPaths),
          },
        ]
      : []),
  ];
  for (const variant of variants) {
    const verifier = new EnvelopeVerifier({
      definition,
      trustedKeys: trustedKeysOf(keys),
      secretKey: keys.box.secretKey,
    });
    const total = VERIFY_ROUNDS + 200;
    const envelopes = Array.from({ length: total }, (_, i) =>
      buildEnvelope(keys, {
        version: i + 1,
        config: configWithModel(`model-${i}`),
        secrets: variant.secrets,
      }),
    );
    const topic = `system/config/${SERVICE}`;
    let next = 0;
    let accepted = 0;
    const samples = timeEach(
      VERIFY_ROUNDS,
      () => {
        const bytes = envelopes[next];
        next += 1;
        const verdict = verifier.verify(bytes, {
          topicService: parseConfigTopic(topic)?.service,
          appliedVersion: next - 1,
          candidateStableVersion: undefined,
        });
        if (verdict.kind === 'accepted') accepted += 1;
      },
      200,
    );
    if (accepted !== VERIFY_ROUNDS + 200) {
      throw new Error(`verify bench: only ${accepted} of ${VERIFY_ROUNDS + 200} accepted`);
    }
    const stats = summarize(samples, 4);
    figures.push({
      name: `(a) verify + validate one envelope (${variant.name}), median / p99`,
      value: `${stats.median} / ${stats.p99}`,
      unit: 'ms',
      target: '<= 0.15 ms median',
    });
  }
  return figures;
}

function secretsOf(paths: readonly string[]): Record<string, string> {
  return Object.fromEntries(paths.map((path) => [path, `bench-secret-${path}`]));
}

/** A valid LKG file for `instanceId` in a fresh directory, with what a worker needs to read it. */
async function lastKnownGood(instanceId: string) {
  const keys = createTestKeys();
  const dir = mkdtempSync(join(tmpdir(), 'cm-worker-lkg-'));
  const lkgPath = join(dir, `${instanceId}.lkg.json`);
  const hmacKey = randomBytes(32);
  const definition = dedupWorkerDefinition();
  const envelope = buildEnvelope(keys, {
    version: 7,
    config: configWithModel('from-lkg'),
    secrets: secretsOf(definition.secretPaths),
  });
  await new LastKnownGoodStore(lkgPath, hmacKey, instanceId).save(envelope, SERVICE);
  return { keys, dir, lkgPath, hmacKey };
}

// (c, in process) ConfigClient.start() -> resolved, from a valid LKG, with no broker listening.
async function inProcessReadyFigures(): Promise<SuiteResult['figures']> {
  const instanceId = 'bench-ready';
  const lkg = await lastKnownGood(instanceId);
  const closedPort = await freePort();
  const samples: number[] = [];
  try {
    for (let round = 0; round < READY_ROUNDS * 4 + 2; round++) {
      const client = new ConfigClient({
        service: SERVICE,
        instanceId,
        mqttUrl: `mqtt://127.0.0.1:${closedPort}`,
        trustedKeys: trustedKeysOf(lkg.keys),
        secretKey: lkg.keys.box.secretKey,
        lkgPath: lkg.lkgPath,
        lkgHmacKey: lkg.hmacKey,
        initialConfigTimeoutMs: 3000,
      });
      const started = performance.now();
      await client.start();
      const elapsed = performance.now() - started;
      const snapshot = client.beginRun();
      if (snapshot.version !== 7 || snapshot.source !== 'lkg') {
        throw new Error(`ready bench: started on ${snapshot.version} (${snapshot.source})`);
      }
      await client.stop();
      // The first two start a cold process (module loading, first compilation): not counted.
      if (round >= 2) samples.push(elapsed);
    }
  } finally {
    rmSync(lkg.dir, { recursive: true, force: true });
  }
  const stats = summarize(samples, 2);
  return [
    {
      name: '(c) ConfigClient.start() -> ready in process, from LKG, broker unreachable, median / p99',
      value: `${stats.median} / ${stats.p99}`,
      unit: 'ms',
    },
  ];
}

// (c) A real dedup-worker process with a valid LKG: spawn -> its "started" line (logged once
// start() resolved and the Nest context is up), with no broker listening and with an empty one.
async function workerProcessReadyFigures(): Promise<{
  figures: SuiteResult['figures'];
  note: string;
}> {
  const entry = appEntry('dedup-worker');
  const command = [...cpuProfileArgs(), ...entry.args];
  const instanceId = 'bench-ready-worker';
  const lkg = await lastKnownGood(instanceId);
  const mosquitto = await startBenchMosquitto();
  const figures: SuiteResult['figures'] = [];
  try {
    const brokers: Array<{ name: string; url: string }> = [
      { name: 'broker unreachable', url: `mqtt://127.0.0.1:${await freePort()}` },
      { name: 'empty broker (no retained config)', url: mosquitto.url },
    ];
    for (const broker of brokers) {
      const samples: number[] = [];
      for (let round = 0; round < READY_ROUNDS + 1; round++) {
        const elapsed = await timeWorkerReady(command, {
          MQTT_URL: broker.url,
          MQTT_TOPIC_PREFIX: `ready${randomBytes(3).toString('hex')}/`,
          INSTANCE_ID: instanceId,
          CONFIG_TRUSTED_KEYS: formatKeyList([
            { id: lkg.keys.kid, key: lkg.keys.signing.publicKey },
          ]),
          CONFIG_SECRET_KEY: lkg.keys.box.secretKey.toString('base64'),
          LKG_HMAC_KEY: lkg.hmacKey.toString('base64'),
          LKG_PATH: lkg.lkgPath,
          DATA_DIR: lkg.dir,
        });
        // The first spawn warms the file cache (and swc's): not counted.
        if (round > 0) samples.push(elapsed.readyMs);
      }
      const stats = summarize(samples, 0);
      figures.push({
        name: `(c) dedup-worker process ready from LKG, ${broker.name}: spawn -> ready line, median / p99`,
        value: `${stats.median} / ${stats.p99}`,
        unit: 'ms',
        target: '< 300 ms',
      });
    }
  } finally {
    await mosquitto.destroy();
    rmSync(lkg.dir, { recursive: true, force: true });
  }
  return {
    figures,
    note:
      `(c) the worker runs as ${entry.describe}; ` +
      'ready is its "dedup-worker <id> started" log line, printed once ConfigClient.start() resolved (ConfigClientModule awaits it at bootstrap); ' +
      `${READY_ROUNDS} spawns per case after one warm-up; INITIAL_CONFIG_TIMEOUT_MS at its default`,
  };
}

async function timeWorkerReady(
  command: string[],
  env: Record<string, string>,
): Promise<{ readyMs: number }> {
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, command, {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  try {
    const readyMs = await new Promise<number>((resolveReady, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`worker not ready in 30 s:\n${lines.join('\n')}`)),
        30000,
      );
      let buffered = '';
      const onData = (chunk: Buffer) => {
        buffered += chunk.toString();
        const parts = buffered.split('\n');
        buffered = parts.pop() ?? '';
        for (const line of parts) {
          lines.push(line);
          if (/dedup-worker \S+ started \(last-known-good/.test(line)) {
            clearTimeout(timer);
            resolveReady(performance.now() - started);
          }
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`worker exited with ${code}:\n${lines.join('\n')}`));
      });
    });
    if (!lines.some((line) => /last-known-good .*version 7/i.test(line))) {
      throw new Error(`worker did not start from its LKG:\n${lines.join('\n')}`);
    }
    return { readyMs };
  } finally {
    child.removeAllListeners('exit');
    const exited = new Promise((done) => child.once('exit', done));
    child.kill('SIGTERM');
    await exited;
  }
}

// (b) CPU per applied version of a process hosting FLEET ConfigClients (bench/lib/fleet-host.ts).
async function fleetCpuFigures(): Promise<SuiteResult['figures']> {
  const recipient = generateBoxKeyPair();
  const prefix = `wrk${randomBytes(3).toString('hex')}/`;
  const mosquitto = await startBenchMosquitto();
  const manager = await startManagerProcess({
    MQTT_URL: mosquitto.url,
    MQTT_TOPIC_PREFIX: prefix,
    SERVICE_RECIPIENT_KEYS: formatKeyList([{ id: SERVICE, key: recipient.publicKey }]),
  });
  const lkgDir = mkdtempSync(join(tmpdir(), 'cm-worker-fleet-'));
  const applied = new Map<string, number>();
  const watcher = await connectAsync(mosquitto.url);
  let wake: (() => void) | undefined;
  watcher.on('message', (_topic, payload) => {
    if (payload.length === 0) return;
    const health = JSON.parse(payload.toString()) as { instanceId: string; appliedVersion: number };
    applied.set(health.instanceId, health.appliedVersion ?? 0);
    wake?.();
  });
  await watcher.subscribeAsync(`${prefix}system/health/${SERVICE}/+`, { qos: 1 });
  const keys = (await (await fetch(`${manager.url}/api/keys`)).json()) as {
    signing: Array<{ kid: string; publicKey: string }>;
  };
  const ids = Array.from({ length: FLEET }, (_, i) => `bench-${i}`);
  const waitAll = (v: number, timeoutMs: number) =>
    new Promise<void>((resolveAll, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`not all ${FLEET} workers applied v${v}`)),
        timeoutMs,
      );
      const check = () => {
        if (ids.every((id) => (applied.get(id) ?? 0) >= v)) {
          clearTimeout(timer);
          wake = undefined;
          resolveAll();
        }
      };
      wake = check;
      check();
    });
  let hosts: ChildProcess[] = [];
  try {
    hosts = await startFleet(
      0,
      FLEET,
      {
        mqttUrl: mosquitto.url,
        topicPrefix: prefix,
        trustedKid: keys.signing[0].kid,
        trustedKey: keys.signing[0].publicKey,
        secretKey: recipient.secretKey.toString('base64'),
        hmacKey: randomBytes(32).toString('base64'),
        lkgDir,
      },
      { perProcess: FLEET, profile: true },
    );
    await waitAll(1, 30000);
    let version = 1;
    const latencies: number[] = [];
    for (let round = 0; round < PATCHES; round++) {
      const res = await fetch(`${manager.url}/api/services/${SERVICE}/config`, {
        method: 'PATCH',
        headers: { ...AUTH, 'Content-Type': 'application/json' },
        body: JSON.stringify({ cluster: { max_cluster_size: 3 + ((version + round) % 40) } }),
      });
      const body = (await res.json()) as { version: number };
      const started = performance.now();
      version = body.version;
      await waitAll(version, 30000);
      latencies.push(performance.now() - started);
    }
    const usage = await stopFleet(hosts);
    hosts = [];
    const stats = summarize(latencies, 1);
    return [
      {
        name: `(b) ${FLEET} workers in one process: worker CPU per applied version`,
        value: usage.applies > 0 ? (usage.cpuMs / usage.applies).toFixed(3) : 'n/a',
        unit: 'ms',
        target: '<= 0.3 ms',
      },
      {
        name: `(b) of which user / system (kernel: socket writes, file sync, rename)`,
        value:
          usage.applies > 0
            ? `${(usage.userMs / usage.applies).toFixed(3)} / ${(usage.systemMs / usage.applies).toFixed(3)}`
            : 'n/a',
        unit: 'ms',
      },
      {
        name: `(b) ${FLEET} workers: versions applied / PATCH response -> last applied report, median / p99`,
        value: `${usage.applies} / ${stats.median} / ${stats.p99}`,
        unit: 'ms',
      },
    ];
  } finally {
    for (const host of hosts) host.kill('SIGTERM');
    const topics = [
      `${prefix}system/config/${SERVICE}`,
      `${prefix}system/schema/${SERVICE}`,
      `${prefix}system/health/config-manager`,
      ...ids.map((id) => `${prefix}system/health/${SERVICE}/${id}`),
    ];
    await Promise.all(
      topics.map((t) => watcher.publishAsync(t, Buffer.alloc(0), { qos: 1, retain: true })),
    );
    await watcher.endAsync();
    await manager.stop();
    await mosquitto.destroy();
    rmSync(lkgDir, { recursive: true, force: true });
  }
}
