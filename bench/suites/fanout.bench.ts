import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { connectAsync } from 'mqtt';
import { formatKeyList, generateBoxKeyPair } from '@app/crypto';
import type { SuiteResult } from '../lib/report';
import { summarize } from '../lib/stats';
import { BENCH_TOKEN, startManagerProcess } from '../lib/manager-process';
import { startBenchMosquitto } from '../lib/mosquitto';
import { startFleet, stopFleet } from '../lib/hosts';

const FLEETS = (process.env.BENCH_FLEETS ?? '1,100,1000').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_FANOUT_ROUNDS ?? 20);
const CLIENTS_PER_PROCESS = 250;
const AUTH = { Authorization: `Bearer ${BENCH_TOKEN}` };

/** Issue 4: time from a PATCH response until every simulated worker reported the version applied. */
export async function fanoutBench(): Promise<SuiteResult> {
  const recipient = generateBoxKeyPair();
  const prefix = `fan${randomBytes(3).toString('hex')}/`;
  const mosquitto = await startBenchMosquitto();
  const MOSQUITTO_URL = mosquitto.url;
  const manager = await startManagerProcess({
    MQTT_URL: MOSQUITTO_URL,
    MQTT_TOPIC_PREFIX: prefix,
    SERVICE_RECIPIENT_KEYS: formatKeyList([{ id: 'dedup-worker', key: recipient.publicKey }]),
  });
  const lkgDir = mkdtempSync(join(tmpdir(), 'cm-fleet-'));
  const applied = new Map<string, number>();
  const watcher = await connectAsync(MOSQUITTO_URL);
  let wake: (() => void) | undefined;
  watcher.on('message', (topic, payload) => {
    if (payload.length === 0) return;
    const health = JSON.parse(payload.toString()) as {
      instanceId: string;
      appliedVersion: number | null;
    };
    applied.set(health.instanceId, health.appliedVersion ?? 0);
    wake?.();
  });
  await watcher.subscribeAsync(`${prefix}system/health/dedup-worker/+`, { qos: 1 });
  const keys = (await (await fetch(`${manager.url}/api/keys`)).json()) as {
    signing: Array<{ kid: string; publicKey: string }>;
  };
  const figures: SuiteResult['figures'] = [];
  let version = 1;
  let first = 0;

  try {
    for (const size of FLEETS) {
      const ids = Array.from({ length: size }, (_, i) => `bench-${first + i}`);
      const hosts = await startFleet(
        first,
        size,
        {
          mqttUrl: MOSQUITTO_URL,
          topicPrefix: prefix,
          trustedKid: keys.signing[0].kid,
          trustedKey: keys.signing[0].publicKey,
          secretKey: recipient.secretKey.toString('base64'),
          hmacKey: randomBytes(32).toString('base64'),
          lkgDir,
        },
        { perProcess: CLIENTS_PER_PROCESS, profile: true },
      );
      const allAt = (v: number) => ids.every((id) => (applied.get(id) ?? 0) >= v);
      const waitAll = (v: number, timeoutMs: number) =>
        new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`not all ${size} workers applied v${v}`)),
            timeoutMs,
          );
          const check = () => {
            if (allAt(v)) {
              clearTimeout(timer);
              wake = undefined;
              resolve();
            }
          };
          wake = check;
          check();
        });
      await waitAll(version, 30000);

      const samples: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const res = await fetch(`${manager.url}/api/services/dedup-worker/config`, {
          method: 'PATCH',
          headers: { ...AUTH, 'Content-Type': 'application/json' },
          body: JSON.stringify({ cluster: { max_cluster_size: 3 + ((version + round) % 40) } }),
        });
        const body = (await res.json()) as { version: number };
        const started = performance.now();
        version = body.version;
        await waitAll(version, 30000);
        samples.push(performance.now() - started);
        if (process.env.BENCH_DEBUG)
          console.error(size, round, (performance.now() - started).toFixed(1));
      }
      const stats = summarize(samples, 1);
      figures.push({
        name: `${size} worker${size === 1 ? '' : 's'} (${hosts.length} process${hosts.length === 1 ? '' : 'es'}): PATCH response → last applied report, median / p99`,
        value: `${stats.median} / ${stats.p99}`,
        unit: 'ms',
        target: size === 1000 ? '< 100 ms p99' : undefined,
      });
      const { cpuMs, applies } = await stopFleet(hosts);
      figures.push({
        name: `${size} worker${size === 1 ? '' : 's'}: worker CPU per applied version`,
        value: applies > 0 ? (cpuMs / applies).toFixed(2) : 'n/a',
        unit: 'ms',
      });
      first += size;
    }
  } finally {
    // The shared mosquitto persists retained messages: clear everything this run left.
    const topics = [
      `${prefix}system/config/dedup-worker`,
      `${prefix}system/health/config-manager`,
      ...Array.from(
        { length: first + FLEETS[FLEETS.length - 1] },
        (_, i) => `${prefix}system/health/dedup-worker/bench-${i}`,
      ),
    ];
    await Promise.all(
      topics.map((t) => watcher.publishAsync(t, Buffer.alloc(0), { qos: 1, retain: true })),
    );
    await watcher.endAsync();
    await manager.stop();
    await mosquitto.destroy();
    rmSync(lkgDir, { recursive: true, force: true });
  }
  return {
    suite: 'fan-out to the fleet',
    issue: 'issue 4',
    figures,
    notes: [
      `${ROUNDS} PATCHes per fleet size; simulated workers are ConfigClients (own MQTT connection, signature check, validation, sealed-secret opening, last-known-good write, health report), ${CLIENTS_PER_PROCESS} per process, on mosquitto; the clock starts when the PATCH response arrives`,
    ],
  };
}
