import { randomBytes, randomInt } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connectAsync } from 'mqtt';
import type { InstanceView, RolloutRequest, RolloutView } from '@app/contracts';
import { formatKeyList, generateBoxKeyPair } from '@app/crypto';
import { pause, until, WorkerProcess } from '@app/testing';
import { BENCH_TOKEN, startManagerProcess } from '../lib/manager-process';
import { startBenchMosquitto } from '../lib/mosquitto';
import type { SuiteResult } from '../lib/report';
import { summarize } from '../lib/stats';

const REPETITIONS = Number(process.env.BENCH_ROLLOUT_REPETITIONS ?? 15);
/** The manager's ROLLOUT_TICK_MS for the bench; its default (250) unless told otherwise. */
const TICK_MS = process.env.BENCH_ROLLOUT_TICK_MS;
const TICK = Number(TICK_MS ?? 250);
const BAKE_RUNS = 2;
const SERVICE = 'dedup-worker';
const CANARIES = ['bench-canary-1', 'bench-canary-2'];
const MAINS = ['bench-main-1', 'bench-main-2'];
const EVERYONE = [...CANARIES, ...MAINS];
const BATCH = readFileSync(resolve(__dirname, '..', '..', 'examples', 'batches', 'tickets.json'));
const WAIT_MS = 30_000;
const AUTH = { Authorization: `Bearer ${BENCH_TOKEN}` };

/** One health message of a worker as the bench's subscriber received it. */
interface Heard {
  at: number;
  instanceId: string;
  appliedVersion: number;
  runs?: { version: number; completed: number; failed: number };
}

/**
 * Issue 16: how quickly a rollout moves once its outcome is known. Four real dedup-worker
 * processes (two labelled tier=canary; the canaries fail every run from a version on, with the
 * CHAOS_FAIL_RUNS_FROM_VERSION test hook) on mosquitto, a manager in its own process (SQLite).
 * (a) A canary-then-all rollout bakes 2 runs on each canary: time from the health report of the
 * last bake run to every instance's health saying it applied the candidate. (b) A rollout whose
 * canary fails its first run: time from that failed run's health report to every canary's health
 * on the rollback version. Every time is taken at one MQTT subscriber of the health topics.
 */
export async function rolloutBench(): Promise<SuiteResult> {
  const recipient = generateBoxKeyPair();
  const mosquitto = await startBenchMosquitto();
  const manager = await startManagerProcess({
    MQTT_URL: mosquitto.url,
    SERVICE_RECIPIENT_KEYS: formatKeyList([{ id: SERVICE, key: recipient.publicKey }]),
    // Each rollback is a warning; 30 rollouts' worth would drown the report.
    LOG_LEVEL: 'error',
    ...(TICK_MS === undefined ? {} : { ROLLOUT_TICK_MS: TICK_MS }),
  });
  const dir = mkdtempSync(join(tmpdir(), 'cm-bench-rollout-'));
  const heard: Heard[] = [];
  const latest = new Map<string, Heard>();
  const watcher = await connectAsync(mosquitto.url);
  watcher.on('message', (_topic, payload) => {
    if (payload.length === 0) return;
    const status = JSON.parse(payload.toString()) as Omit<Heard, 'at'>;
    const entry = { ...status, at: performance.now() };
    heard.push(entry);
    latest.set(entry.instanceId, entry);
  });
  await watcher.subscribeAsync(`system/health/${SERVICE}/+`, { qos: 1 });
  const http = new Http(manager.url);
  const workers: WorkerProcess[] = [];
  // Phase (a) makes one version per repetition from v2 on; every run on a version of phase (b) fails.
  const failFrom = 2 + REPETITIONS;

  try {
    const keys = (await http.json('GET', '/api/keys')) as {
      signing: Array<{ kid: string; publicKey: string }>;
    };
    const hmacKey = randomBytes(32).toString('base64');
    for (const id of EVERYONE) {
      const home = join(dir, id);
      mkdirSync(join(home, 'inbox'), { recursive: true });
      const canary = CANARIES.includes(id);
      workers.push(
        WorkerProcess.start({
          MQTT_URL: mosquitto.url,
          INSTANCE_ID: id,
          CONFIG_TRUSTED_KEYS: `${keys.signing[0].kid}:${keys.signing[0].publicKey}`,
          CONFIG_SECRET_KEY: recipient.secretKey.toString('base64'),
          LKG_HMAC_KEY: hmacKey,
          DATA_DIR: home,
          RUN_DEBOUNCE_MS: '0',
          LOG_LEVEL: 'warn',
          INSTANCE_LABELS: `tier=${canary ? 'canary' : 'main'}`,
          ...(canary ? { CHAOS_FAIL_RUNS_FROM_VERSION: String(failFrom) } : {}),
        }),
      );
    }
    await until(
      'every worker online in the instance view',
      async () => {
        const view = (await http.json(
          'GET',
          `/api/services/${SERVICE}/instances`,
        )) as InstanceView[];
        return (
          EVERYONE.every((id) =>
            view.some(
              (i) => i.instanceId === id && i.status === 'online' && i.appliedVersion === 1,
            ),
          ) || undefined
        );
      },
      { timeoutMs: 60_000 },
    );

    const acks: number[] = [];
    const completions: number[] = [];
    for (let rep = 0; rep < REPETITIONS; rep++) {
      const candidate = await stage(http, rep);
      if (candidate >= failFrom) throw new Error(`phase (a) staged v${candidate}, a failing one`);
      const started = performance.now();
      const rollout = await http.createRollout({
        version: candidate,
        strategy: {
          steps: [
            { cohort: { selector: { tier: 'canary' } }, bake: { runs: BAKE_RUNS } },
            { cohort: { all: true } },
          ],
          ackTimeoutSeconds: 30,
        },
      });
      await heardAll(latest, CANARIES, (h) => h.appliedVersion === candidate);
      acks.push(
        lastHeard(heard, started, CANARIES, (h) => h.appliedVersion === candidate) - started,
      );
      await http.rolloutWhen(rollout.id, (r) => r.state === 'baking');
      for (let run = 1; run <= BAKE_RUNS; run++) {
        // The last bake run at a random phase of the manager's tick (see decorrelate).
        if (run === BAKE_RUNS) await decorrelate();
        for (const id of CANARIES) dropBatch(join(dir, id, 'inbox'));
        await heardAll(
          latest,
          CANARIES,
          (h) => h.runs?.version === candidate && h.runs.completed >= run,
        );
      }
      const baked = lastHeard(
        heard,
        started,
        CANARIES,
        (h) => h.runs?.version === candidate && h.runs.completed >= BAKE_RUNS,
      );
      await heardAll(latest, EVERYONE, (h) => h.appliedVersion === candidate);
      const applied = lastHeard(heard, started, EVERYONE, (h) => h.appliedVersion === candidate);
      const done = await http.rolloutWhen(rollout.id, (r) => r.state !== 'baking');
      if (done.state !== 'complete') throw new Error(`rollout ${done.id} ended ${done.state}`);
      completions.push(applied - baked);
    }

    const rollbacks: number[] = [];
    for (let rep = 0; rep < REPETITIONS; rep++) {
      const candidate = await stage(http, REPETITIONS + rep);
      if (candidate < failFrom)
        throw new Error(`phase (b) staged v${candidate}, below ${failFrom}`);
      const started = performance.now();
      const rollout = await http.createRollout({
        version: candidate,
        strategy: {
          steps: [
            { cohort: { selector: { tier: 'canary' } }, bake: { runs: 1 } },
            { cohort: { all: true } },
          ],
          ackTimeoutSeconds: 30,
          maxFailedRuns: 0,
        },
      });
      await heardAll(latest, CANARIES, (h) => h.appliedVersion === candidate);
      await http.rolloutWhen(rollout.id, (r) => r.state === 'baking');
      // One canary's run on the candidate fails: the failing signal.
      await decorrelate();
      dropBatch(join(dir, CANARIES[0], 'inbox'));
      const ended = await http.rolloutWhen(rollout.id, (r) => r.state === 'rolled_back');
      const back = ended.rollbackVersion;
      if (ended.trigger !== 'failed-runs' || back === null) {
        throw new Error(`rollout ${ended.id} rolled back by ${ended.trigger} to v${back}`);
      }
      await heardAll(latest, EVERYONE, (h) => h.appliedVersion === back);
      const failed = firstHeard(
        heard,
        started,
        [CANARIES[0]],
        (h) => h.runs?.version === candidate && h.runs.failed > 0,
      );
      const restored = lastHeard(heard, started, CANARIES, (h) => h.appliedVersion === back);
      rollbacks.push(restored - failed);
    }

    const a = summarize(completions, 1);
    const b = summarize(rollbacks, 1);
    const ack = summarize(acks, 1);
    return {
      suite: 'progressive rollouts',
      issue: 'issue 16',
      figures: [
        {
          name: 'last bake run reported → every instance applied the candidate, median / p99',
          value: `${a.median} / ${a.p99}`,
          unit: 'ms',
        },
        {
          name: 'failed canary run reported → every canary on the rollback version, median / p99',
          value: `${b.median} / ${b.p99}`,
          unit: 'ms',
        },
        {
          name: 'rollout created → every canary applied the candidate, median / p99',
          value: `${ack.median} / ${ack.p99}`,
          unit: 'ms',
        },
      ],
      notes: [
        `${REPETITIONS} rollouts of each kind (p99 of ${REPETITIONS} samples is their maximum); four real dedup-worker processes (two tier=canary, two tier=main) on mosquitto, the manager in its own process on SQLite; times taken at one MQTT subscriber of system/health/dedup-worker/+`,
        `ROLLOUT_TICK_MS ${TICK_MS === undefined ? '250 (the default)' : `${TICK_MS} (lowered with BENCH_ROLLOUT_TICK_MS; the default is 250)`}: each move waits for the next tick, so about half a tick of both figures is that wait; the last bake run and the failing run start at a random phase of the tick (a random pause of 0 to one tick before their batch is dropped)`,
        `(a): steps [canary selector, bake ${BAKE_RUNS} runs] then all; the clock starts at the health report of the last canary's run number ${BAKE_RUNS} on the candidate (workers report a later run within a second, the first at once) and stops at the last instance's report of the candidate applied`,
        `(b): a canary's run fails (CHAOS_FAIL_RUNS_FROM_VERSION=${failFrom}, maxFailedRuns 0); the clock starts at its health report of the failed run and stops at the last canary's report of the rollback version (a new version with the stable content)`,
      ],
    };
  } finally {
    await Promise.all(workers.map((w) => w.kill('SIGTERM')));
    await watcher.endAsync();
    await manager.stop();
    await mosquitto.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Waits a random part of a tick. The runs start right after the bench saw a tick's move, and a
 * run takes about as long every time, so without it the signal would land at the same phase of
 * the tick in every repetition and the figures would measure the run's length against the tick.
 * Not a synchronisation: nothing is awaited by it.
 */
function decorrelate(): Promise<void> {
  return pause(randomInt(0, TICK + 1));
}

/** Stages a change (X-Publish: staged) and returns its version. */
async function stage(http: Http, n: number): Promise<number> {
  const res = await http.request('PATCH', `/api/services/${SERVICE}/config`, {
    body: { cluster: { max_cluster_size: 3 + (n % 40) } },
    headers: { 'X-Publish': 'staged' },
  });
  if (res.status !== 200)
    throw new Error(`staged PATCH answered ${res.status}: ${await res.text()}`);
  await res.arrayBuffer();
  return Number(res.headers.get('X-Staged-Version'));
}

/** Puts a batch into an inbox atomically (a hidden file renamed into place). */
function dropBatch(inbox: string): void {
  const name = `b-${randomBytes(4).toString('hex')}.json`;
  writeFileSync(join(inbox, `.${name}.tmp`), BATCH);
  renameSync(join(inbox, `.${name}.tmp`), join(inbox, name));
}

/** Waits until the latest health of each of `ids` satisfies `check`. */
function heardAll(
  latest: ReadonlyMap<string, Heard>,
  ids: readonly string[],
  check: (h: Heard) => boolean,
): Promise<true> {
  return until(
    `${ids.join(', ')} reporting the awaited state`,
    () =>
      ids.every((id) => {
        const h = latest.get(id);
        return h !== undefined && check(h);
      }) || undefined,
    {
      timeoutMs: WAIT_MS,
      intervalMs: 5,
      describe: () => JSON.stringify(ids.map((id) => latest.get(id))),
    },
  );
}

/** When the first report since `since` satisfying `check` arrived, per id: the latest of those. */
function lastHeard(
  heard: readonly Heard[],
  since: number,
  ids: readonly string[],
  check: (h: Heard) => boolean,
): number {
  return Math.max(...ids.map((id) => firstHeard(heard, since, [id], check)));
}

/** When the first report of `ids` since `since` satisfying `check` arrived. */
function firstHeard(
  heard: readonly Heard[],
  since: number,
  ids: readonly string[],
  check: (h: Heard) => boolean,
): number {
  const found = heard.find((h) => h.at >= since && ids.includes(h.instanceId) && check(h));
  if (!found) throw new Error(`no report of ${ids.join(', ')} in the awaited state`);
  return found.at;
}

/** The manager's REST API as the bench's admin. */
class Http {
  constructor(private readonly baseUrl: string) {}

  request(
    method: string,
    path: string,
    { body, headers = {} }: { body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<Response> {
    return fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        ...AUTH,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  async json(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await this.request(method, path, { body });
    if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${await res.text()}`);
    return res.json();
  }

  createRollout(request: RolloutRequest): Promise<RolloutView> {
    return this.json('POST', `/api/services/${SERVICE}/rollouts`, request) as Promise<RolloutView>;
  }

  rolloutWhen(id: string, check: (r: RolloutView) => boolean): Promise<RolloutView> {
    return until(
      `rollout ${id} in the awaited state`,
      async () => {
        const r = (await this.json(
          'GET',
          `/api/services/${SERVICE}/rollouts/${id}`,
        )) as RolloutView;
        return check(r) ? r : undefined;
      },
      { timeoutMs: WAIT_MS, intervalMs: 10 },
    );
  }
}
