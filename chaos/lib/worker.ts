import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BrokerUser, freePort } from '@app/testing';
import { Child, untilHealthy } from './child';
import type { Janitor } from './janitor';
import { ROOT } from './paths';

const START_TIMEOUT_MS = 60_000;
const REQUEST_TIMEOUT_MS = 5000;

/** What the stack's workers share (broker, trusted key, secret key, LKG HMAC key). */
export interface WorkerSetup {
  mqttUrl: string;
  trustedKeys: string;
  secretKey: string;
  lkgHmacKey: string;
  /** Extra environment on top of the stack's, at every start (CONFIG_MAX_STALENESS). */
  env?: Readonly<Record<string, string>>;
}

/** A staleness transition the worker logged (once per transition, docs/recovery.md "Freshness"). */
export interface FreshnessEvent {
  stale: boolean;
  /** When the harness read the line (Date.now()). */
  at: number;
}

/**
 * One config the worker took on, from its log: accepted from the broker (the stable topic, or
 * the candidate topic of a rollout), or loaded from its last-known-good file.
 */
export interface AppliedEvent {
  version: number;
  source: 'broker' | 'candidate' | 'lkg';
}

/** The worker's own view, from its /metrics and /health (METRICS_PORT). */
export interface WorkerView {
  appliedVersion: number;
  status: string;
  degraded: boolean;
  rejected: Record<string, number>;
  /** `config_client_stale 1`: nothing attested its config for longer than CONFIG_MAX_STALENESS. */
  stale: boolean;
}

const ACCEPTED = /Accepted dedup-worker config version (\d+)/;
const ACCEPTED_CANDIDATE = /Accepted dedup-worker candidate version (\d+) of rollout/;
const LOADED_LKG = /Loaded last-known-good dedup-worker config version (\d+)/;
const STALE = /dedup-worker config is stale: /;
const FRESH_AGAIN = /dedup-worker config version \d+ is fresh again/;

/**
 * A dedup-worker child process (from source) with its own broker user, data dir, inbox, outbox
 * and metrics port, all kept across restarts. Every config it applies is recorded from its log,
 * over all its lives, so a scenario can prove it never went back to a lower version.
 */
export class WorkerNode {
  /** Every config applied, in order, over every restart. */
  private readonly applied: AppliedEvent[] = [];
  /** Every staleness transition it logged, over every restart. */
  private readonly freshness: FreshnessEvent[] = [];
  private child: Child | undefined;

  private constructor(
    readonly instanceId: string,
    readonly dir: string,
    readonly metricsPort: number,
    private readonly setup: WorkerSetup,
    /** Its own `dedup-worker/<instanceId>` user. */
    private readonly credentials: BrokerUser,
    private readonly janitor: Janitor,
    /** Its INSTANCE_LABELS (`tier=canary`), if any. */
    readonly labels: string | undefined,
  ) {}

  static async create(
    instanceId: string,
    dir: string,
    setup: WorkerSetup,
    credentials: BrokerUser,
    janitor: Janitor,
    labels?: string,
  ): Promise<WorkerNode> {
    mkdirSync(dir, { recursive: true });
    return new WorkerNode(instanceId, dir, await freePort(), setup, credentials, janitor, labels);
  }

  get inbox(): string {
    return join(this.dir, 'inbox');
  }

  get outbox(): string {
    return join(this.dir, 'outbox');
  }

  /** Where a run keeps the files it took (see apps/dedup-worker input-files.ts). */
  get claimDir(): string {
    return join(this.inbox, `.claimed-${this.instanceId}`);
  }

  get running(): boolean {
    return this.child?.alive ?? false;
  }

  /** Starts the worker and waits until its metrics endpoint answers (it then has a config). */
  async start(): Promise<void> {
    const child = Child.start(
      {
        command: process.execPath,
        args: ['-r', '@swc-node/register', join(ROOT, 'apps/dedup-worker/src/main.ts')],
        cwd: ROOT,
        env: { ...process.env, ...this.environment() },
        logFile: join(this.dir, 'worker.log'),
        onLine: (line) => this.onLine(line),
      },
      this.janitor,
    );
    this.child = child;
    await untilHealthy(
      child,
      this.instanceId,
      `http://127.0.0.1:${this.metricsPort}/health`,
      START_TIMEOUT_MS,
    );
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    await this.child?.kill(signal);
  }

  async stop(): Promise<void> {
    await this.child?.stop();
  }

  tail(): string {
    return this.child?.tail() ?? '';
  }

  /** Every config applied so far, in order, over every restart. */
  history(): readonly AppliedEvent[] {
    return [...this.applied];
  }

  /** Every staleness transition it logged (stale, fresh again), over every restart. */
  freshnessLog(): readonly FreshnessEvent[] {
    return [...this.freshness];
  }

  /**
   * Each config applied below one applied before, over all its lives (an accepted one, stable or
   * candidate, must be above every earlier one; a last-known-good file loaded at start must not
   * be below them).
   */
  regressions(): string[] {
    const found: string[] = [];
    let highest = 0;
    for (const { version, source } of this.applied) {
      const regressed = source === 'lkg' ? version < highest : version <= highest;
      if (regressed)
        found.push(`${this.instanceId} applied v${version} (${source}) after v${highest}`);
      highest = Math.max(highest, version);
    }
    return found;
  }

  /**
   * The config envelope in its last-known-good file (the newest it accepted, exactly as
   * received), or undefined before it wrote one.
   */
  lastKnownGood(): Buffer | undefined {
    const name = readdirSync(this.dir).find((f) => f.endsWith(`.${this.instanceId}.lkg.json`));
    if (name === undefined) return undefined;
    const file = JSON.parse(readFileSync(join(this.dir, name), 'utf8')) as { envelope?: unknown };
    return typeof file.envelope === 'string' ? Buffer.from(file.envelope, 'base64') : undefined;
  }

  /** Its applied version, status and rejection counters, as it reports them itself. */
  async view(): Promise<WorkerView> {
    const [metrics, health] = await Promise.all([this.get('/metrics'), this.get('/health')]);
    const text = await metrics.text();
    const { config } = (await health.json()) as { config: string };
    const rejected: Record<string, number> = {};
    for (const match of text.matchAll(
      /^dedup_worker_config_rejected_total\{reason="([^"]+)"\} (\d+)$/gm,
    )) {
      rejected[match[1]] = Number(match[2]);
    }
    return {
      appliedVersion: gauge(text, 'dedup_worker_config_applied_version'),
      status: config,
      degraded: gauge(text, 'dedup_worker_degraded') === 1,
      rejected,
      stale: gauge(text, 'config_client_stale') === 1,
    };
  }

  private get(path: string): Promise<Response> {
    return fetch(`http://127.0.0.1:${this.metricsPort}${path}`, {
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  }

  private onLine(line: string): void {
    const accepted = ACCEPTED.exec(line);
    if (accepted) this.applied.push({ version: Number(accepted[1]), source: 'broker' });
    const candidate = ACCEPTED_CANDIDATE.exec(line);
    if (candidate) this.applied.push({ version: Number(candidate[1]), source: 'candidate' });
    const loaded = LOADED_LKG.exec(line);
    if (loaded) this.applied.push({ version: Number(loaded[1]), source: 'lkg' });
    if (STALE.test(line)) this.freshness.push({ stale: true, at: Date.now() });
    if (FRESH_AGAIN.test(line)) this.freshness.push({ stale: false, at: Date.now() });
  }

  private environment(): Record<string, string> {
    const s = this.setup;
    return {
      NODE_ENV: 'test',
      NO_COLOR: '1',
      DATA_DIR: this.dir,
      INSTANCE_ID: this.instanceId,
      MQTT_URL: s.mqttUrl,
      MQTT_USERNAME: this.credentials.username,
      MQTT_PASSWORD: this.credentials.password,
      CONFIG_TRUSTED_KEYS: s.trustedKeys,
      CONFIG_SECRET_KEY: s.secretKey,
      LKG_HMAC_KEY: s.lkgHmacKey,
      METRICS_PORT: String(this.metricsPort),
      METRICS_HOST: '127.0.0.1',
      RUN_DEBOUNCE_MS: '50',
      ...(this.labels === undefined ? {} : { INSTANCE_LABELS: this.labels }),
      ...s.env,
    };
  }
}

function gauge(metrics: string, name: string): number {
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics);
  if (!match) throw new Error(`worker metrics have no ${name}`);
  return Number(match[1]);
}
