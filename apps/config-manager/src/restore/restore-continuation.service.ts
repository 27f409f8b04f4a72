import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import {
  CONFIG_TOPIC_FILTER,
  INSTANCE_HEALTH_TOPIC_FILTER,
  parseConfigTopic,
} from '@app/contracts';
import { Counter } from 'prom-client';
import { EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { ConfigCacheService } from '../configs/config-cache.service';
import { ConfigReadsService } from '../configs/config-reads.service';
import { ConfigRepository } from '../configs/config-repository';
import type { ConfigState } from '../configs/config-state';
import { ServiceCatalog } from '../configs/service-catalog';
import { DatabaseService } from '../database/database.service';
import { parseInstanceHealth } from '../instances/instance-status';
import { BrokerConnectionService } from '../messaging/broker-connection.service';
import { MetricsService } from '../metrics/metrics.service';
import { ConfigPublisherService } from '../publishing/config-publisher.service';
import { RetainedConfigWatch } from '../publishing/retained-config-watch';
import type { Settings } from '../settings/settings';
import { SETTINGS } from '../settings/settings.module';
import { SnapshotFile } from '../snapshot/snapshot-file';
import { type VersionEvidence, weighEvidence } from './version-evidence';

const SYSTEM_ACTOR = 'system';
/** Another replica moving the pointer between our read and our compare-and-set: read again. */
const MAX_CAS_ATTEMPTS = 5;
/** Ignored claims are logged at most this often per service (they are all counted). */
const IGNORED_LOG_INTERVAL_MS = 60_000;

/** The evidence of one service, as it is gathered. */
interface Gathered {
  snapshot: number;
  bus: number;
  claims: Map<string, number>;
}

/**
 * Keeps a restored store from stranding the fleet (docs/recovery.md, "Backups and restores that
 * strand nobody"). Workers only accept versions above the one they run, so a store restored to
 * v3 while the fleet runs v6 would publish versions nobody takes. On start (once the database
 * is there) and whenever the bus shows more, this finds the highest version the fleet was given:
 * the snapshot in DATA_DIR (HMAC'd), the retained config envelopes (signed with this manager's
 * keys), and the applied versions instances report (unsigned, so only within
 * RESTORE_MAX_VERSION_GAP). When that is above the store's current version it writes a version of
 * kind `restore` above it with the store's current content (config and secrets unchanged),
 * audited as `system`, and publishes it: every worker takes it as newer.
 *
 * The instance view refuses reports above anything published, so the reports are read here from
 * the bus on their own. Two replicas on one store race on the compare-and-set of the service row:
 * the one that loses re-reads, finds the pointer at or above the evidence, and does nothing.
 */
@Injectable()
export class RestoreContinuation implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(RestoreContinuation.name);
  private readonly evidence = new Map<string, Gathered>();
  private readonly queues = new Map<string, Promise<void>>();
  private readonly scheduled = new Set<string>();
  private readonly ignoredLogged = new Map<string, number>();
  private readonly ignoredClaims: Counter<'service'>;
  /** Per service, the highest version of the evidence found to be in the store (a rollout's candidate). */
  private readonly inStore = new Map<string, number>();
  private started = false;
  private stopped = false;

  constructor(
    @Inject(SETTINGS) private readonly settings: Settings,
    private readonly db: DatabaseService,
    private readonly repository: ConfigRepository,
    private readonly reads: ConfigReadsService,
    private readonly cache: ConfigCacheService,
    private readonly catalog: ServiceCatalog,
    private readonly audit: AuditService,
    private readonly publisher: ConfigPublisherService,
    private readonly watch: RetainedConfigWatch,
    private readonly connection: BrokerConnectionService,
    private readonly snapshot: SnapshotFile,
    metrics: MetricsService,
  ) {
    this.ignoredClaims = new Counter({
      name: 'config_restore_claims_ignored_total',
      help:
        'Applied versions reported by instances that a restore check did not believe: more than ' +
        'RESTORE_MAX_VERSION_GAP above the highest authentic version, per service',
      labelNames: ['service'] as const,
      registers: [metrics.registry],
    });
  }

  async onModuleInit(): Promise<void> {
    for (const service of this.snapshot.initial()?.services ?? []) {
      this.gathered(service.name).snapshot = service.version;
    }
    this.connection.subscribe(this.connection.topic(CONFIG_TOPIC_FILTER), (topic, payload) =>
      this.onConfigMessage(topic, payload),
    );
    this.connection.subscribe(
      this.connection.topic(INSTANCE_HEALTH_TOPIC_FILTER),
      (topic, payload, retained) => {
        // Only the reports the broker held when this manager subscribed (what the fleet ran
        // before it connected) are claims: a live report is not evidence of a restore, and a
        // broker client flooding live reports must not move the version (chaos scenario 9).
        if (retained) this.onHealthMessage(topic, payload);
      },
    );
    // Before the publisher connects: a store behind the snapshot gets its restore version first,
    // so the store's older version never replaces the fleet's on the bus.
    await this.db.whenConnected('check for a restored store', async () => {
      this.started = true;
      for (const service of this.evidence.keys()) await this.check(service);
    });
  }

  onApplicationShutdown(): void {
    this.stopped = true;
  }

  /** Weighs the evidence of `service` and, when the store is behind it, writes the restore version. */
  check(service: string): Promise<void> {
    const previous = this.queues.get(service) ?? Promise.resolve();
    const run = previous.then(() => this.checkNow(service));
    const settled = run.catch((error: unknown) =>
      this.logger.warn(
        `Restore check of ${service} failed (${(error as Error).message}); it runs again on the next evidence`,
      ),
    );
    this.queues.set(service, settled);
    return settled;
  }

  private onConfigMessage(topic: string, payload: Buffer): void {
    const parsed = parseConfigTopic(topic.slice(this.connection.topic('').length));
    if (!parsed) return;
    const version = this.watch.authenticVersion(parsed.service, payload);
    if (version === undefined) return;
    const gathered = this.gathered(parsed.service);
    if (version <= gathered.bus) return;
    gathered.bus = version;
    this.schedule(parsed.service);
  }

  private onHealthMessage(topic: string, payload: Buffer): void {
    const message = parseInstanceHealth(
      topic.slice(this.connection.topic('').length),
      payload,
      new Date(),
      (s) => this.catalog.find(s) !== undefined,
    );
    if (message?.kind !== 'report') return;
    const { service, instanceId, appliedVersion } = message.report;
    if (appliedVersion === null || appliedVersion === undefined) return;
    const claims = this.gathered(service).claims;
    if (claims.get(instanceId) === appliedVersion) return;
    claims.set(instanceId, appliedVersion);
    this.schedule(service);
  }

  /** A burst of messages (the retained ones on connecting) is weighed once, right after it. */
  private schedule(service: string): void {
    if (!this.started || this.stopped || this.scheduled.has(service)) return;
    const current = this.cache.get(service)?.version;
    const gathered = this.evidence.get(service);
    // Nothing above the store: the common case costs no timer.
    const above =
      gathered &&
      current !== undefined &&
      (gathered.bus > current ||
        gathered.snapshot > current ||
        [...gathered.claims.values()].some((v) => v > current));
    if (!above) return;
    this.scheduled.add(service);
    setImmediate(() => {
      this.scheduled.delete(service);
      if (!this.stopped) void this.check(service);
    });
  }

  private async checkNow(service: string): Promise<void> {
    if (!this.catalog.isActive(service) || this.db.isColdStart()) return;
    const gathered = this.evidence.get(service);
    const current = this.cache.get(service);
    if (!gathered || !current) return;
    const verdict = weighEvidence(current.version, gathered, this.settings.restoreMaxVersionGap);
    this.noteIgnored(service, verdict.ignored, verdict.authentic, current.version);
    if (verdict.highest <= Math.max(current.version, this.inStore.get(service) ?? 0)) return;
    // A version the store has is no restore: a rollout's candidate runs above the current one.
    const known = await this.db.read((m) =>
      this.repository.versionExists(m, service, verdict.highest),
    );
    if (known) {
      this.inStore.set(service, verdict.highest);
      return;
    }
    const state = await this.writeRestore(service, gathered, verdict.highest);
    if (!state) return;
    this.cache.set(state);
    await this.publisher.publish(state);
  }

  /** The restore version, in one transaction behind the compare-and-set; undefined: not needed (any more). */
  private async writeRestore(
    service: string,
    evidence: VersionEvidence,
    highest: number,
  ): Promise<ConfigState | undefined> {
    for (let attempt = 1; attempt <= MAX_CAS_ATTEMPTS; attempt++) {
      const outcome = await this.db.transaction((m) =>
        this.restoreOnce(m, service, evidence, highest),
      );
      if (outcome !== 'lost') return outcome;
    }
    throw new Error(`lost the compare-and-set ${MAX_CAS_ATTEMPTS} times`);
  }

  private async restoreOnce(
    manager: EntityManager,
    service: string,
    evidence: VersionEvidence,
    highest: number,
  ): Promise<ConfigState | undefined | 'lost'> {
    const pointer = await this.repository.lock(manager, service);
    // Another replica (or a write) already took the service above what the fleet was given.
    if (!pointer || pointer.currentVersion >= highest) return undefined;
    const current = await this.reads.loadCurrent(manager, service);
    if (!current) return undefined;
    const version = Math.max(highest, pointer.lastVersion) + 1;
    const at = new Date().toISOString();
    const won = await this.repository.allocateAbove(manager, service, pointer, {
      version,
      at,
      actor: SYSTEM_ACTOR,
    });
    if (!won) return 'lost';
    const reason =
      `restore: the store was at v${pointer.currentVersion} but v${highest} had been published ` +
      `(${describeEvidence(evidence)}); v${version} carries the store's v${pointer.currentVersion} content to every worker`;
    await this.repository.insertVersion(manager, {
      service,
      version,
      kind: 'restore',
      state: 'published',
      createdAt: at,
      createdBy: SYSTEM_ACTOR,
      reason,
      schemaHash: current.schemaHash,
      config: current.config,
      secrets: current.secrets,
    });
    await this.audit.record(manager, {
      at,
      actor: SYSTEM_ACTOR,
      service,
      kind: 'restore',
      versionBefore: pointer.currentVersion,
      versionAfter: version,
      reason,
      changes: [],
    });
    this.logger.warn(
      `${service}: ${reason}. Was a backup restored? Nothing to do: the fleet moves to v${version}.`,
    );
    return {
      ...current,
      version,
      kind: 'restore',
      updatedAt: at,
      updatedBy: SYSTEM_ACTOR,
    };
  }

  private noteIgnored(
    service: string,
    ignored: ReadonlyMap<string, number>,
    authentic: number,
    storeVersion: number,
  ): void {
    if (ignored.size === 0) return;
    this.ignoredClaims.inc({ service }, ignored.size);
    // Counted once: a claim is weighed again only when it changes.
    for (const instanceId of ignored.keys()) this.evidence.get(service)?.claims.delete(instanceId);
    const now = Date.now();
    if (now - (this.ignoredLogged.get(service) ?? 0) < IGNORED_LOG_INTERVAL_MS) return;
    this.ignoredLogged.set(service, now);
    const sample = [...ignored]
      .slice(0, 3)
      .map(([id, v]) => `${id} v${v}`)
      .join(', ');
    this.logger.warn(
      `${service}: ignored ${ignored.size} reported applied version(s) more than RESTORE_MAX_VERSION_GAP ` +
        `(${this.settings.restoreMaxVersionGap}) above v${Math.max(authentic, storeVersion)} (${sample}). ` +
        'Reports are not signed: if this repeats, some client can write system/health/ (check the broker ACL).',
    );
  }

  private gathered(service: string): Gathered {
    let gathered = this.evidence.get(service);
    if (!gathered) {
      gathered = { snapshot: 0, bus: 0, claims: new Map() };
      this.evidence.set(service, gathered);
    }
    return gathered;
  }
}

function describeEvidence(evidence: VersionEvidence): string {
  const parts: string[] = [];
  if (evidence.snapshot > 0) parts.push(`snapshot v${evidence.snapshot}`);
  if (evidence.bus > 0) parts.push(`bus v${evidence.bus}`);
  const claimed = Math.max(0, ...evidence.claims.values());
  if (claimed > 0) parts.push(`instances report up to v${claimed}`);
  return parts.join(', ');
}
