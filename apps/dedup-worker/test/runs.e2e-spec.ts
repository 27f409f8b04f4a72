import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { InstanceStatus } from '@app/contracts';
import {
  freePort,
  type InProcessManager,
  MqttProbe,
  startWorkerStack,
  waitForInstance,
  WorkerProcess,
} from '@app/testing';
import { geminiReply, GeminiStub, type StubReply } from '../src/ai/testing/gemini-stub';
import type { RunReport } from '../src/runs/run-report';
import { CONFIG_MANAGER } from './support/config-manager';

const SERVICE = 'dedup-worker';
const EXAMPLES = resolve(__dirname, '..', '..', '..', 'examples', 'batches');
const API_KEY = 'AIza-runs-e2e-never-in-a-report';

/** Waits until OUTPUT_DIR holds `count` reports; returns them oldest first. */
async function reports(dir: string, count: number, timeoutMs = 15000): Promise<RunReport[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const names = existsSync(dir)
      ? readdirSync(dir)
          .filter((n) => n.endsWith('.json'))
          .sort()
      : [];
    if (names.length >= count)
      return names.map((n) => JSON.parse(readFileSync(join(dir, n), 'utf8')) as RunReport);
    if (Date.now() > deadline)
      throw new Error(`only ${names.length} of ${count} reports in ${dir}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until some instance applied `version`. */
const appliedVersion = (manager: InProcessManager, version: number) =>
  waitForInstance(manager, (i) => i.appliedVersion === version);

const drop = (dir: string, ...names: string[]) =>
  names.forEach((n) => copyFileSync(join(EXAMPLES, n), join(dir, n)));
const titles = (report: RunReport) =>
  report.clusters.map((c) => `${c.canonical.title} ×${c.members.length}`).sort();

describe('dedup-worker runs, end to end', () => {
  let manager: InProcessManager;
  let dir: string;
  let env: Record<string, string>;
  let worker: WorkerProcess | undefined;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dw-runs-'));
    const stack = await startWorkerStack(CONFIG_MANAGER);
    manager = stack.manager;
    env = {
      ...stack.workerEnv(dir, 'w-runs'),
      INPUT_DIR: join(dir, 'inbox'),
      OUTPUT_DIR: join(dir, 'outbox'),
      RUN_DEBOUNCE_MS: '100',
    };
    mkdirSync(env.INPUT_DIR, { recursive: true });
  }, 30000);

  afterEach(async () => {
    await worker?.kill('SIGTERM');
    worker = undefined;
    await manager.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('de-duplicates dropped batches, and a PATCHed threshold changes the next run', async () => {
    worker = WorkerProcess.start(env);
    await appliedVersion(manager, 1);

    drop(env.INPUT_DIR, 'tickets.json', 'cityguide.json', 'social.json');
    const [first] = await reports(env.OUTPUT_DIR, 1);

    expect(first).toMatchObject({ configVersion: 1, configSource: 'broker', failed: [] });
    expect(first.counts).toMatchObject({
      events: 8,
      clusters: 5,
      duplicatesMerged: 3,
      ambiguous: 1,
      aiCalls: 0,
    });
    expect(titles(first)).toEqual([
      'Jazz Brunch ×1',
      'Nils Frahm – Live in Concert! ×3',
      'Nutcracker ballet ×1',
      'Poetry Slam at Lido ×2',
      'The Nutcracker ×1',
    ]);
    expect(readdirSync(join(env.INPUT_DIR, 'processed')).sort()).toEqual([
      'cityguide.json',
      'social.json',
      'tickets.json',
    ]);

    await manager.api.patchConfig(SERVICE, { thresholds: { high: 0.7 } }).expect(200);
    await appliedVersion(manager, 2);
    drop(env.INPUT_DIR, 'tickets.json', 'social.json');
    const [, second] = await reports(env.OUTPUT_DIR, 2);

    expect(second.configVersion).toBe(2);
    expect(titles(second)).toContain('Nutcracker ballet ×2');
  }, 60000);

  it('reports its labels and how each run ended in its health; CHAOS_FAIL_RUNS_FROM_VERSION fails runs', async () => {
    const probe = await MqttProbe.connect(env.MQTT_URL, ['system/health/dedup-worker/w-runs']);
    const health = (match: (status: InstanceStatus) => boolean, what: string) =>
      probe
        .waitFor((m) => match(JSON.parse(m.payload.toString()) as InstanceStatus), what, 15000)
        .then((m) => JSON.parse(m.payload.toString()) as InstanceStatus);
    try {
      worker = WorkerProcess.start({
        ...env,
        INSTANCE_LABELS: 'region=eu-west,tier=canary',
        CHAOS_FAIL_RUNS_FROM_VERSION: '2',
      });
      await worker.waitForLine(/CHAOS_FAIL_RUNS_FROM_VERSION=2: every run on that config version/);
      const online = await health((h) => h.status === 'online', 'online health');
      expect(online.labels).toEqual({ region: 'eu-west', tier: 'canary' });
      expect(online).not.toHaveProperty('runs');

      drop(env.INPUT_DIR, 'tickets.json');
      await reports(env.OUTPUT_DIR, 1);
      expect(await health((h) => h.runs !== undefined, 'health after the first run')).toMatchObject(
        {
          labels: { region: 'eu-west', tier: 'canary' },
          runs: { version: 1, completed: 1, failed: 0 },
          lastRun: { version: 1, ok: true },
        },
      );

      await manager.api.patchConfig(SERVICE, { thresholds: { high: 0.7 } }).expect(200);
      await appliedVersion(manager, 2);
      drop(env.INPUT_DIR, 'social.json');
      const failed = await health((h) => h.lastRun?.ok === false, 'health after a failed run');
      expect(failed).toMatchObject({
        appliedVersion: 2,
        runs: { version: 2, completed: 0, failed: 1 },
        lastRun: { version: 2, ok: false },
      });
      await worker.waitForLine(
        /Run failed: CHAOS_FAIL_RUNS_FROM_VERSION: runs on config version 2 fail/,
      );
      expect(readdirSync(env.OUTPUT_DIR)).toHaveLength(1);
    } finally {
      await probe.close();
    }
  }, 60000);

  it('sets a malformed file aside in failed/ with its reason while the others are processed', async () => {
    worker = WorkerProcess.start(env);
    await appliedVersion(manager, 1);
    writeFileSync(join(env.INPUT_DIR, 'broken.json'), '{"source": "x", "events": [');
    writeFileSync(
      join(env.INPUT_DIR, 'wrong.json'),
      JSON.stringify({ source: 'x', source_type: 'y', events: [{ id: 1 }] }),
    );
    drop(env.INPUT_DIR, 'tickets.json');

    const [report] = await reports(env.OUTPUT_DIR, 1);

    expect(report.counts.events).toBe(3);
    expect(report.failed.map((f) => f.file).sort()).toEqual(['broken.json', 'wrong.json']);
    expect(readFileSync(join(env.INPUT_DIR, 'failed', 'broken.json.reason.txt'), 'utf8')).toMatch(
      /not valid JSON/,
    );
    expect(readFileSync(join(env.INPUT_DIR, 'failed', 'wrong.json.reason.txt'), 'utf8')).toMatch(
      /events\[0\]/,
    );
    expect(readdirSync(join(env.INPUT_DIR, 'processed'))).toEqual(['tickets.json']);
    await appliedVersion(manager, 1); // still running and reporting
  }, 60000);

  it('exposes its counters on METRICS_PORT: runs, run duration, accepted and rejected configs by reason', async () => {
    const port = await freePort();
    worker = WorkerProcess.start({ ...env, METRICS_PORT: String(port), METRICS_HOST: '127.0.0.1' });
    await appliedVersion(manager, 1);
    drop(env.INPUT_DIR, 'tickets.json');
    await reports(env.OUTPUT_DIR, 1);
    const forger = await MqttProbe.connect(env.MQTT_URL, []);
    await forger.publishRetained('system/config/dedup-worker', Buffer.from('not an envelope'));
    await forger.close();
    await worker.waitForLine(/Rejected a config message .*\(malformed\)/);

    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();

    expect(metrics).toMatch(/^dedup_worker_runs_total 1$/m);
    expect(metrics).toMatch(/^dedup_worker_run_duration_seconds_count 1$/m);
    expect(metrics).toMatch(/^dedup_worker_events_total 3$/m);
    expect(metrics).toMatch(/^dedup_worker_config_accepted_total 1$/m);
    expect(metrics).toMatch(/^dedup_worker_config_rejected_total\{reason="malformed"\} 1$/m);
    expect(metrics).toMatch(/^dedup_worker_config_applied_version 1$/m);
    expect(metrics).toMatch(/^dedup_worker_degraded 0$/m);
    const health = await (await fetch(`http://127.0.0.1:${port}/health`)).json();
    expect(health).toEqual({ status: 'ok', config: 'online' });
  }, 60000);

  it("two replicas sharing an inbox process each file exactly once; a crashed run's claims are taken up again", async () => {
    // A file an interrupted run of w-runs had claimed, left in its claim directory.
    mkdirSync(join(env.INPUT_DIR, '.claimed-w-runs'));
    copyFileSync(
      join(EXAMPLES, 'social.json'),
      join(env.INPUT_DIR, '.claimed-w-runs', 'social.json'),
    );
    worker = WorkerProcess.start(env);
    const second = WorkerProcess.start({ ...env, INSTANCE_ID: 'w-runs-2' });
    try {
      await appliedVersion(manager, 1);
      drop(env.INPUT_DIR, 'tickets.json', 'cityguide.json');
      const deadline = Date.now() + 15000;
      const processed = () => {
        // The SDK reports online before the run loop has created processed/.
        const dir = join(env.INPUT_DIR, 'processed');
        return existsSync(dir) ? readdirSync(dir).sort() : [];
      };
      while (processed().length < 3 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));

      expect(processed()).toEqual(['cityguide.json', 'social.json', 'tickets.json']);
      const all = readdirSync(env.OUTPUT_DIR).map(
        (n) => JSON.parse(readFileSync(join(env.OUTPUT_DIR, n), 'utf8')) as RunReport,
      );
      const files = all.flatMap((r) => r.inputs.map((i) => i.file)).sort();
      expect(files).toEqual(['cityguide.json', 'social.json', 'tickets.json']);
      expect(all.reduce((sum, r) => sum + r.counts.events, 0)).toBe(8);
      await worker.waitForLine(/Put 1 file\(s\) an interrupted run had claimed back/);
    } finally {
      await second.kill('SIGTERM');
    }
  }, 60000);

  it('--once processes the files present and exits', async () => {
    drop(env.INPUT_DIR, 'tickets.json', 'cityguide.json');
    const once = WorkerProcess.start(env, ['--once']);

    expect(await once.exit()).toBe(0);
    const [report] = await reports(env.OUTPUT_DIR, 1, 1000);
    expect(report.counts.events).toBe(6);
  }, 60000);

  it('creates a missing DATA_DIR and the directories under it 0700', async () => {
    const dataDir = join(dir, 'fresh-data');
    // Inbox and outbox default to DATA_DIR; the last-known-good file is kept out of it, so only
    // the run loop creates DATA_DIR.
    const once = WorkerProcess.start(
      { ...env, DATA_DIR: dataDir, INPUT_DIR: '', OUTPUT_DIR: '', LKG_PATH: join(dir, 'w.lkg') },
      ['--once'],
    );

    expect(await once.exit()).toBe(0);
    const modes = ['', 'inbox', 'outbox', 'inbox/processed', 'inbox/failed'].map((sub) =>
      (statSync(join(dataDir, sub)).mode & 0o777).toString(8),
    );
    expect(modes).toEqual(['700', '700', '700', '700', '700']);
  }, 60000);

  it('a run keeps the version it started with while a newer one arrives; the next run uses the newer', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    let asked: () => void = () => undefined;
    const firstQuestion = new Promise<void>((r) => (asked = r));
    const stub = new GeminiStub(async (): Promise<StubReply> => {
      asked();
      await gate;
      return geminiReply({ same_event: false, confidence: 0.9, reason: 'different productions' });
    });
    const baseUrl = await stub.start();
    try {
      await manager.api.putSecret(SERVICE, 'ai.api_key', API_KEY).expect(204);
      await manager.api.patchConfig(SERVICE, { ai: { enabled: true } }).expect(200);
      worker = WorkerProcess.start({ ...env, AI_BASE_URL: baseUrl });
      await appliedVersion(manager, 3);

      drop(env.INPUT_DIR, 'tickets.json', 'social.json');
      await firstQuestion; // the run is in flight, waiting on the AI
      await manager.api.patchConfig(SERVICE, { thresholds: { high: 0.7 } }).expect(200);
      await appliedVersion(manager, 4);
      release();

      const [first] = await reports(env.OUTPUT_DIR, 1);
      expect(first.configVersion).toBe(3);
      expect(first.counts.aiCalls).toBeGreaterThan(0);
      drop(env.INPUT_DIR, 'cityguide.json');
      const [, second] = await reports(env.OUTPUT_DIR, 2);
      expect(second.configVersion).toBe(4);
      expect(stub.requests[0].headers['x-goog-api-key']).toBe(API_KEY);
      const written = readdirSync(env.OUTPUT_DIR)
        .map((n) => readFileSync(join(env.OUTPUT_DIR, n), 'utf8'))
        .join('');
      expect(written).not.toContain(API_KEY);
      expect(worker.lines.join('\n')).not.toContain(API_KEY);
    } finally {
      release();
      await stub.stop();
    }
  }, 60000);
});
