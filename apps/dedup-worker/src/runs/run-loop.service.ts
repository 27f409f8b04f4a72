import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { watch, FSWatcher } from 'chokidar';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { MatchingConfig } from '@app/contracts';
import { ConfigClient, type ConfigSnapshot } from '@app/config-client';
import { AiDecisionCache } from '../ai/ai-decision-cache';
import { AiMatcher, isAiUsable } from '../ai/ai-matcher';
import { deduplicate } from '../matching/deduplicate';
import { parseBatch, type SourceEvent } from '../matching/event';
import { claim, moveInto, moveToFailed, pendingFiles, releaseClaims } from './input-files';
import type { RunReport } from './run-report';
import type { WorkerSettings } from './worker-settings';
import { WORKER_SETTINGS } from './worker-settings.token';
import { WorkerMetricsService } from '../metrics/worker-metrics.service';

/** How often the input directory is looked at even without a watcher event. */
const RESCAN_INTERVAL_MS = 2000;

/**
 * The worker's run loop. A run takes the batch files present when it starts (after a short
 * debounce), takes ONE config snapshot from the SDK, de-duplicates all their events together,
 * writes OUTPUT_DIR/<runId>.json and moves the inputs to processed/ (or failed/ with a reason).
 * Runs never overlap; files arriving during a run start the next one. A config that arrives
 * during a run is staged by the SDK and used from the next run on. How each run ended (it
 * finished, or threw) goes back to the SDK (endRun), which reports it in health: a rollout bakes
 * a new version on completed runs and rolls it back on failed ones.
 */
@Injectable()
export class RunLoopService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(RunLoopService.name);
  private readonly aiCache = new AiDecisionCache();
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private rescanTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private sequence = 0;
  private stopped = false;

  constructor(
    @Inject(WORKER_SETTINGS) private readonly settings: WorkerSettings,
    private readonly config: ConfigClient<MatchingConfig>,
    private readonly metrics: WorkerMetricsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { inputDir, outputDir, processedDir, failedDir } = this.settings;
    // 0700, and so DATA_DIR when it is created here as their parent: it also holds the
    // last-known-good file. A directory shared with other users is made by whoever shares it.
    await Promise.all(
      [inputDir, outputDir, processedDir, failedDir].map((d) =>
        mkdir(d, { recursive: true, mode: 0o700 }),
      ),
    );
    const released = await releaseClaims(this.claimDir(), inputDir);
    if (released.length > 0) {
      this.logger.warn(
        `Put ${released.length} file(s) an interrupted run had claimed back into ${inputDir}`,
      );
    }
    if (this.settings.chaosFailRunsFromVersion !== undefined) {
      this.logger.warn(
        `CHAOS_FAIL_RUNS_FROM_VERSION=${this.settings.chaosFailRunsFromVersion}: every run on that config version or a later one fails (a test hook)`,
      );
    }
    if (this.settings.once) return;
    this.watcher = watch(inputDir, {
      depth: 0,
      ignoreInitial: false,
      // Only whole files: a batch being copied in is picked up once its size stops changing.
      awaitWriteFinish: { stabilityThreshold: 200, pollInterval: 50 },
    });
    const onFile = (path: string) => {
      if (path.endsWith('.json') && !basename(path).startsWith('.')) this.schedule();
    };
    // A file re-added under a name just moved away can surface as 'change', not 'add'.
    this.watcher.on('add', onFile).on('change', onFile);
    // Watchers can miss events (network filesystems, bursts): a periodic look is the safety net.
    this.rescanTimer = setInterval(() => void this.rescan(), RESCAN_INTERVAL_MS);
    this.rescanTimer.unref();
    this.watcher.on('error', (error) =>
      this.logger.error(`Watching ${inputDir} failed: ${String(error)}`),
    );
    this.logger.log(`Watching ${inputDir} for batch files; reports go to ${outputDir}`);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.rescanTimer);
    await this.watcher?.close();
    await this.running;
  }

  /** Runs once over the files present now (used by --once); resolves with the report, if any. */
  runOnce(): Promise<RunReport | undefined> {
    return this.runExclusive();
  }

  /** Where this instance's runs hold the files they took (hidden, inside the inbox: same filesystem). */
  private claimDir(): string {
    return join(this.settings.inputDir, `.claimed-${this.config.status().instanceId}`);
  }

  private async rescan(): Promise<void> {
    if (this.running || this.stopped) return;
    if ((await pendingFiles(this.settings.inputDir).catch(() => [])).length > 0) this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.runExclusive(), this.settings.debounceMs);
  }

  private async runExclusive(): Promise<RunReport | undefined> {
    if (this.running) {
      this.again = true;
      await this.running;
      return undefined;
    }
    const run = this.run();
    this.running = run
      .then(() => undefined)
      .catch((error: unknown) =>
        this.logger.error(
          `Run failed: ${error instanceof Error ? error.message : String(error)}; its inputs stay in place`,
        ),
      )
      .finally(() => {
        this.running = undefined;
        if (this.again && !this.stopped) {
          this.again = false;
          this.schedule();
        }
      });
    await this.running;
    return run.catch(() => undefined);
  }

  private async run(): Promise<RunReport | undefined> {
    // Claim the files first: replicas sharing the inbox never process the same file twice.
    const claimed = await Promise.all(
      (await pendingFiles(this.settings.inputDir)).map((file) => claim(file, this.claimDir())),
    );
    const files = claimed.filter((file): file is string => file !== undefined);
    if (files.length === 0) return undefined;
    const startedAt = new Date();
    const runId = `run-${startedAt.toISOString().replace(/[-:.]/g, '')}-${String(++this.sequence).padStart(4, '0')}`;
    // One version for the whole run: later versions wait for the next run.
    const snapshot = this.config.beginRun();
    let ok = false;
    try {
      const report = await this.runOn(snapshot, files, runId, startedAt);
      ok = true;
      return report;
    } finally {
      this.config.endRun(snapshot, { ok });
    }
  }

  private async runOn(
    snapshot: ConfigSnapshot<MatchingConfig>,
    files: string[],
    runId: string,
    startedAt: Date,
  ): Promise<RunReport> {
    const chaosFrom = this.settings.chaosFailRunsFromVersion;
    if (chaosFrom !== undefined && snapshot.version >= chaosFrom) {
      throw new Error(
        `CHAOS_FAIL_RUNS_FROM_VERSION: runs on config version ${snapshot.version} fail (test hook, from version ${chaosFrom})`,
      );
    }
    const t0 = performance.now();
    const { events, inputs, failed, repeatedKeys, used } = await this.readInputs(files);
    const read = performance.now();
    const result = await deduplicate(events, snapshot.config, {
      ai: this.aiFor(snapshot),
      aiMaxPairs: this.settings.aiMaxPairsPerRun,
    });
    const deduplicated = performance.now();
    const report: RunReport = {
      runId,
      startedAt: startedAt.toISOString(),
      finishedAt: '',
      configVersion: snapshot.version,
      configSource: snapshot.source,
      schemaDrift: snapshot.schemaDrift,
      inputs,
      failed,
      counts: {
        ...result.stats,
        clusters: result.clusters.length,
        duplicatesMerged: events.length - result.clusters.length,
        repeatedKeys,
      },
      timings: { ...result.timings, readMs: read - t0, writeMs: 0 },
      clusters: result.clusters,
    };
    await this.writeReport(report, deduplicated);
    for (const file of used) await moveInto(file, this.settings.processedDir);
    this.metrics.recordRun((performance.now() - t0) / 1000, events.length);
    this.logger.log(
      `${runId}: config v${snapshot.version}, ${inputs.length} file(s), ${events.length} events → ${report.counts.clusters} ` +
        `(${report.counts.duplicatesMerged} duplicates merged, ${report.counts.ambiguous} ambiguous, ${report.counts.aiCalls} AI calls, ` +
        `$${report.counts.aiCostUsd.toFixed(4)})${failed.length ? `, ${failed.length} file(s) failed` : ''} in ${Math.round(performance.now() - t0)} ms`,
    );
    return report;
  }

  private async readInputs(files: string[]): Promise<{
    events: SourceEvent[];
    inputs: RunReport['inputs'];
    failed: RunReport['failed'];
    repeatedKeys: number;
    used: string[];
  }> {
    const events: SourceEvent[] = [];
    const inputs: RunReport['inputs'] = [];
    const failed: RunReport['failed'] = [];
    const used: string[] = [];
    const seen = new Set<string>();
    let repeatedKeys = 0;
    for (const file of files) {
      const name = basename(file);
      const reason = await this.problemWith(file);
      const parsed =
        reason === undefined ? await this.parse(file, name) : { ok: false as const, reason };
      if (!parsed.ok) {
        // A bad file never stops the run or loses the others: it is set aside with its reason.
        await moveToFailed(file, this.settings.failedDir, parsed.reason);
        failed.push({ file: name, reason: parsed.reason });
        this.logger.warn(`Moved ${name} to ${this.settings.failedDir}: ${parsed.reason}`);
        continue;
      }
      let kept = 0;
      for (const event of parsed.events) {
        if (seen.has(event.key)) {
          repeatedKeys++;
          continue;
        }
        seen.add(event.key);
        events.push(event);
        kept++;
      }
      inputs.push({
        file: name,
        source: parsed.source,
        sourceType: parsed.sourceType,
        events: kept,
      });
      used.push(file);
    }
    return { events, inputs, failed, repeatedKeys, used };
  }

  private async problemWith(file: string): Promise<string | undefined> {
    const size = (await stat(file)).size;
    return size > this.settings.maxInputFileBytes
      ? `file is ${size} bytes, more than MAX_INPUT_FILE_BYTES (${this.settings.maxInputFileBytes})`
      : undefined;
  }

  private async parse(
    file: string,
    name: string,
  ): Promise<
    | { ok: true; source: string; sourceType: string; events: SourceEvent[] }
    | { ok: false; reason: string }
  > {
    let json: unknown;
    try {
      json = JSON.parse(await readFile(file, 'utf8'));
    } catch (error) {
      return {
        ok: false,
        reason: `not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
    const batch = parseBatch(json, name);
    return batch.ok
      ? { ok: true, source: batch.source, sourceType: batch.sourceType, events: batch.events }
      : { ok: false, reason: batch.error.message };
  }

  private aiFor(snapshot: ConfigSnapshot<MatchingConfig>): AiMatcher | undefined {
    if (!isAiUsable(snapshot.config.ai)) return undefined;
    return new AiMatcher(snapshot.config.ai, {
      cache: this.aiCache,
      baseUrl: this.settings.aiBaseUrl,
      timeoutMs: this.settings.aiTimeoutMs,
    });
  }

  /** Writes the report atomically (temp file, then rename) so readers never see half a report. */
  private async writeReport(report: RunReport, since: number): Promise<void> {
    const path = join(this.settings.outputDir, `${report.runId}.json`);
    report.finishedAt = new Date().toISOString();
    report.timings.writeMs = performance.now() - since;
    const temp = `${path}.tmp`;
    await writeFile(temp, JSON.stringify(report, null, 2) + '\n', 'utf8');
    await rename(temp, path);
  }
}
