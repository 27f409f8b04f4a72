import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import {
  CONFIG_TOPIC_FILTER,
  MANAGER_HEALTH_TOPIC,
  SCHEMA_TOPIC_FILTER,
  configTopic,
  managerOffline,
  managerOnline,
  parseConfigTopic,
  parseSchemaTopic,
  schemaTopic,
} from '@app/contracts';
import { ConfigCacheService } from '../configs/config-cache.service';
import type { ConfigState } from '../configs/config-state';
import { ConfigReadsService } from '../configs/config-reads.service';
import { ConfigRepository } from '../configs/config-repository';
import { type CatalogEntry, ServiceCatalog } from '../configs/service-catalog';
import { DomainError, ErrorCode } from '../common/domain-error';
import { DatabaseService } from '../database/database.service';
import type { Settings } from '../settings/settings';
import { SETTINGS } from '../settings/settings.module';
import { BrokerConnectionService } from '../messaging/broker-connection.service';
import { MetricsService } from '../metrics/metrics.service';
import { EnvelopeBuilderService } from './envelope-builder.service';
import { SnapshotWriter } from './snapshot-writer';
import {
  RetainedConfigWatch,
  type RetainedChannel,
  type RetainedProblem,
  type RetainedVerdict,
} from './retained-config-watch';

/** How a log line names what replaced the current envelope, when it carries no version. */
const PROBLEM_WORDS: Record<RetainedProblem, string> = {
  empty: 'an empty retained message (which deletes the config)',
  oversized: 'an oversized message',
  malformed: 'a message that is not a config envelope',
  'unsupported-alg': 'an envelope not signed with Ed25519',
  'unknown-key': "an envelope signed with a key that is not this manager's",
  signature: 'an envelope whose signature does not verify',
  service: "another service's envelope",
  stale: 'an older envelope',
};

/** How often versions the broker has not acknowledged are published again. */
const SWEEP_INTERVAL_MS = 5000;
/**
 * How long acknowledgements gather before their outbox marks are written in one transaction:
 * a mark only saves a republish after a restart, so it need not delay a write's response, nor
 * cost each of a burst of writes a transaction of its own.
 */
const MARK_DELAY_MS = 100;
/** Seconds a client should wait before retrying a republish while the broker is away. */
export const BROKER_RETRY_AFTER_SECONDS = 5;

/**
 * Publishes every committed version, signed and retained, on `system/config/<service>`, after
 * the service's current schema on `system/schema/<service>` (and a signed tombstone in place of
 * the config of an archived service).
 * The database is the source of truth: a version is committed first and published after; the
 * highest acknowledged version per service is the outbox mark (services.published_version), and
 * anything above it is published again by a periodic sweep. On every (re)connection the current
 * version of every service is republished, which also heals a broker that lost its retained
 * messages. The manager watches its own topics (RetainedConfigWatch): a retained message that is
 * not its current signed envelope (empty, unparsable, unauthentic, older) is replaced at once;
 * a newer one signed with its key means another replica wrote, and is learnt from the database.
 *
 * One file (~420 lines) on purpose: the outbox mark, the sweep, the republish on connect and the
 * schema-before-config order share one per-service publishing state that must not be split.
 */
@Injectable()
export class ConfigPublisherService
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly logger = new Logger(ConfigPublisherService.name);
  /** Highest version the broker acknowledged, per service. */
  private readonly acknowledged = new Map<string, number>();
  /** Highest version handed to the client, per service: an older one is never sent after it. */
  private readonly sent = new Map<string, number>();
  /** Highest newer version seen on the bus that the database was re-read for, per service. */
  private readonly refreshedFor = new Map<string, number>();
  /** Schema version the broker acknowledged on each service's schema topic (since connecting). */
  private readonly schemaAcknowledged = new Map<string, number>();
  /** Highest newer schema version seen on the bus that the store was re-read for, per service. */
  private readonly schemaRefreshedFor = new Map<string, number>();
  private sweepTimer: NodeJS.Timeout | undefined;
  /** Outbox marks not yet written, per service, and the write under way. */
  private readonly pendingMarks = new Map<string, number>();
  private markTimer: NodeJS.Timeout | undefined;
  private marking: Promise<void> | undefined;
  /** Per service, the version whose envelope could not be built (a secret does not open), and why. */
  private readonly unbuildable = new Map<string, { version: number; error: DomainError }>();

  constructor(
    @Inject(SETTINGS) private readonly settings: Settings,
    private readonly connection: BrokerConnectionService,
    private readonly envelopes: EnvelopeBuilderService,
    private readonly configs: ConfigReadsService,
    private readonly repository: ConfigRepository,
    private readonly db: DatabaseService,
    private readonly metrics: MetricsService,
    private readonly watch: RetainedConfigWatch,
    private readonly cache: ConfigCacheService,
    private readonly catalog: ServiceCatalog,
    private readonly snapshot: SnapshotWriter,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // A cold start has no outbox marks: everything is republished on connect anyway.
    await this.db.whenConnected('load the outbox marks', async () => {
      for (const row of await this.repository.listServices()) {
        const mark = row.publishedVersion ?? 0;
        if (mark > (this.acknowledged.get(row.name) ?? 0)) this.acknowledged.set(row.name, mark);
      }
    });
    this.connection.subscribe(this.connection.topic(CONFIG_TOPIC_FILTER), (topic, payload) =>
      this.onBusMessage(topic, payload),
    );
    this.connection.subscribe(this.connection.topic(SCHEMA_TOPIC_FILTER), (topic, payload) =>
      this.onSchemaMessage(topic, payload),
    );
    this.connection.onOversized((topic) => this.onOversizedMessage(topic));
    this.connection.onConnect(() => void this.republishAll());
    await this.connection.start({
      topic: this.connection.topic(MANAGER_HEALTH_TOPIC),
      payload: JSON.stringify(managerOffline(this.settings.mqtt.clientId)),
    });
    this.sweepTimer = setInterval(() => void this.publishPending(), SWEEP_INTERVAL_MS);
    this.sweepTimer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.sweepTimer);
    await this.writeMarks();
    await this.connection.publish(
      this.connection.topic(MANAGER_HEALTH_TOPIC),
      JSON.stringify(managerOffline(this.settings.mqtt.clientId)),
      true,
    );
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweepTimer);
  }

  isPublished(service: string, version: number): boolean {
    return (this.acknowledged.get(service) ?? 0) >= version;
  }

  /**
   * Publishes a committed state, after its service's current schema if the broker does not hold
   * that yet; false if the broker did not acknowledge both (the sweep retries).
   */
  async publish(state: ConfigState): Promise<boolean> {
    if (state.version < (this.sent.get(state.service) ?? 0)) {
      // A newer version already went out; sending this one would roll the retained message back.
      return this.isPublished(state.service, state.version);
    }
    const entry = this.catalog.find(state.service);
    if (!entry || entry.archivedAt !== null) return false;
    if (!(await this.publishSchema(entry))) {
      this.metrics.publishFailed(state.service);
      return false;
    }
    // Checked again after the await: a newer version may have gone out meanwhile (a heartbeat
    // of the old one racing a write).
    if (state.version < (this.sent.get(state.service) ?? 0)) {
      return this.isPublished(state.service, state.version);
    }
    const envelope = this.buildOrReport(state);
    if (!envelope) return false;
    this.sent.set(state.service, state.version);
    this.snapshot.schedule();
    this.watch.publishing(state.service, state.version, 'config', envelope);
    const ok = await this.connection.publish(
      this.connection.topic(configTopic(state.service)),
      envelope,
      true,
    );
    if (ok) {
      this.markAcknowledged(state.service, state.version);
    } else {
      this.watch.publishFailed(state.service, state.version);
      this.metrics.publishFailed(state.service);
    }
    return ok;
  }

  /**
   * The signed envelope of a state; undefined when a stored secret does not open as current
   * (SECRET_UNREADABLE): nothing is sent, the error is logged (once per version) and kept for
   * the republish endpoint, and the sweep tries again (a PUT of the secret heals it).
   */
  private buildOrReport(state: ConfigState): Buffer | undefined {
    try {
      const envelope = this.envelopes.build(state);
      this.unbuildable.delete(state.service);
      return envelope;
    } catch (error) {
      if (!(error instanceof DomainError) || error.code !== ErrorCode.SecretUnreadable) throw error;
      const known = this.unbuildable.get(state.service);
      if (known?.version !== state.version || known.error.message !== error.message) {
        this.logger.error(`${state.service} v${state.version} was not published: ${error.message}`);
      }
      this.unbuildable.set(state.service, { version: state.version, error });
      this.metrics.publishFailed(state.service);
      return undefined;
    }
  }

  /**
   * Publishes a service's current schema unless the broker acknowledged it since connecting;
   * false if the broker does not acknowledge it.
   */
  async publishSchema(entry: CatalogEntry): Promise<boolean> {
    const service = entry.definition.name;
    if (this.schemaAcknowledged.get(service) === entry.schemaVersion) return true;
    const envelope = this.envelopes.buildSchema(entry);
    this.watch.publishing(service, entry.schemaVersion, 'schema', envelope);
    const ok = await this.connection.publish(
      this.connection.topic(schemaTopic(service)),
      envelope,
      true,
    );
    if (ok) this.schemaAcknowledged.set(service, entry.schemaVersion);
    else this.watch.publishFailed(service, entry.schemaVersion, 'schema');
    return ok;
  }

  /**
   * Leaves an archived service's signed tombstone on its config topic (its workers keep what
   * they run and say it is archived) and clears its schema topic; false if the broker is away
   * (every reconnection publishes it again).
   */
  async publishArchived(entry: CatalogEntry, version: number): Promise<boolean> {
    const service = entry.definition.name;
    this.schemaAcknowledged.delete(service);
    this.sent.delete(service);
    this.snapshot.schedule();
    const tombstone = await this.connection.publish(
      this.connection.topic(configTopic(service)),
      this.envelopes.buildTombstone(service, version),
      true,
    );
    const cleared = await this.connection.publish(
      this.connection.topic(schemaTopic(service)),
      Buffer.alloc(0),
      true,
    );
    return tombstone && cleared;
  }

  /** Publishes the current version (an archived service: its tombstone) again (admin endpoint); 503 if the broker is away. */
  async republish(service: string): Promise<{ service: string; version: number; published: true }> {
    const state = await this.freshState(service);
    const entry = this.catalog.entry(service);
    const published =
      entry.archivedAt === null
        ? await this.publish(state)
        : await this.publishArchived(entry, state.version);
    if (!published) {
      const unbuildable = this.unbuildable.get(service);
      if (unbuildable?.version === state.version) throw unbuildable.error;
      throw new DomainError(
        ErrorCode.BrokerUnavailable,
        `The MQTT broker did not acknowledge ${service} version ${state.version}; it will be published when the broker is reachable`,
        undefined,
        BROKER_RETRY_AFTER_SECONDS,
      );
    }
    return { service, version: state.version, published: true };
  }

  private async republishAll(): Promise<void> {
    this.watch.reconnected();
    this.schemaAcknowledged.clear();
    const versions: Record<string, number> = {};
    for (const state of this.configs.list()) {
      const current = await this.freshState(state.service);
      const entry = this.catalog.find(current.service);
      if (entry?.archivedAt !== null) {
        if (entry) await this.publishArchived(entry, current.version);
        continue;
      }
      versions[current.service] = current.version;
      const ok = await this.publish(current);
      if (!ok)
        this.logger.warn(
          `Could not publish ${current.service} v${current.version} on connect; will retry`,
        );
    }
    await this.connection.publish(
      this.connection.topic(MANAGER_HEALTH_TOPIC),
      JSON.stringify(managerOnline(this.settings.mqtt.clientId, versions)),
      true,
    );
  }

  private async publishPending(): Promise<void> {
    if (!this.connection.isConnected()) return;
    for (const state of this.configs.list()) {
      if (!this.catalog.isActive(state.service)) continue;
      if (!this.isPublished(state.service, state.version)) await this.publish(state);
    }
  }

  /**
   * The heartbeat (HeartbeatService): re-signs and republishes the current version of every
   * active service the broker already acknowledged (new `issuedAt`, same version and content).
   * A version not yet acknowledged is the sweep's; one another replica superseded (seen on the
   * bus, being re-read) is skipped, so a heartbeat never rolls the retained message back.
   */
  async attestAll(): Promise<void> {
    if (!this.connection.isConnected()) return;
    for (const state of this.configs.list()) {
      const { service, version } = state;
      if (!this.catalog.isActive(service) || !this.isPublished(service, version)) continue;
      if ((this.refreshedFor.get(service) ?? 0) > version) continue;
      if ((this.sent.get(service) ?? 0) > version) continue;
      if (await this.publish(state)) this.metrics.heartbeat(service, 'config');
    }
  }

  /** The committed current state, re-read from the database when it is reachable (another replica may have written). */
  private async freshState(service: string): Promise<ConfigState> {
    if (!this.db.isAvailable()) return this.configs.current(service);
    try {
      return await this.configs.refresh(service);
    } catch {
      return this.configs.current(service);
    }
  }

  /** A message on a config topic: learn of newer versions, replace anything else that is not ours. */
  private onBusMessage(topic: string, bytes: Buffer): void {
    const current = this.stateOfTopic(topic);
    if (!current) return;
    const verdict = this.watch.judge(current.service, bytes, current.version);
    if (verdict.kind === 'newer') this.learnNewer(current.service, verdict.version);
    else if (verdict.kind === 'repair') this.repair(current, verdict);
  }

  /** A message the connection dropped unread for its size (it replaced the retained one, too). */
  private onOversizedMessage(topic: string): void {
    const schemaOf = this.entryOfSchemaTopic(topic);
    if (schemaOf) {
      this.repairSchemaOversized(schemaOf);
      return;
    }
    const current = this.stateOfTopic(topic);
    if (!current) return;
    const verdict = this.watch.oversized(current.service, current.version);
    if (verdict.kind === 'repair') this.repair(current, verdict);
  }

  /** A message on a schema topic: learn of newer schemas, replace anything else that is not ours. */
  private onSchemaMessage(topic: string, bytes: Buffer): void {
    const parsed = parseSchemaTopic(topic.slice(this.settings.mqtt.topicPrefix.length));
    if (parsed && !this.catalog.find(parsed.service)) {
      // Maybe registered by another replica: believed only when signed with our key.
      const verdict = this.watch.judge(parsed.service, bytes, 0, 'schema');
      if (verdict.kind === 'newer') this.learnNewerSchema(parsed.service, verdict.version);
      return;
    }
    const entry = this.entryOfSchemaTopic(topic);
    if (!entry) return;
    const service = entry.definition.name;
    const verdict = this.watch.judge(service, bytes, entry.schemaVersion, 'schema');
    if (verdict.kind === 'newer') this.learnNewerSchema(service, verdict.version);
    else if (verdict.kind === 'repair') this.repairSchema(entry, verdict);
  }

  /** The current state of the service whose config topic this is; undefined for any other topic. */
  private stateOfTopic(topic: string): ConfigState | undefined {
    const parsed = parseConfigTopic(topic.slice(this.settings.mqtt.topicPrefix.length));
    if (!parsed) return undefined;
    // Not an active service of this manager (another tenant's, one it does not know, or an
    // archived one, whose topic holds its tombstone): undefined.
    if (!this.catalog.isActive(parsed.service)) return undefined;
    return this.configs.list().find((s) => s.service === parsed.service);
  }

  /** The active service whose schema topic this is; undefined for any other topic. */
  private entryOfSchemaTopic(topic: string): CatalogEntry | undefined {
    const parsed = parseSchemaTopic(topic.slice(this.settings.mqtt.topicPrefix.length));
    if (!parsed || !this.catalog.isActive(parsed.service)) return undefined;
    return this.catalog.find(parsed.service);
  }

  private repairSchemaOversized(entry: CatalogEntry): void {
    const verdict = this.watch.oversized(entry.definition.name, entry.schemaVersion, 'schema');
    if (verdict.kind === 'repair') this.repairSchema(entry, verdict);
  }

  private repairSchema(
    entry: CatalogEntry,
    verdict: Extract<RetainedVerdict, { kind: 'repair' }>,
  ): void {
    const service = entry.definition.name;
    this.recordRepair(service, 'schema', verdict, entry.schemaVersion);
    if (!this.connection.isConnected()) return; // the reconnect republishes everything
    this.schemaAcknowledged.delete(service);
    void this.publishSchema(entry);
  }

  /** Another replica registered a newer schema: re-read the service once per schema version. */
  private learnNewerSchema(service: string, schemaVersion: number): void {
    if ((this.schemaRefreshedFor.get(service) ?? 0) >= schemaVersion) return;
    this.schemaRefreshedFor.set(service, schemaVersion);
    this.logger.log(
      `${service} schema v${schemaVersion} was published by another replica; refreshing`,
    );
    this.configs.refresh(service).catch(() => this.schemaRefreshedFor.delete(service));
  }

  private recordRepair(
    service: string,
    channel: RetainedChannel,
    verdict: Extract<RetainedVerdict, { kind: 'repair' }>,
    currentVersion: number,
  ): void {
    this.metrics.retainedIncident(service, verdict.problem);
    this.watch.record({
      service,
      ...(channel === 'schema' ? { channel } : {}),
      problem: verdict.problem,
      ...(verdict.version === undefined ? {} : { version: verdict.version }),
      currentVersion,
    });
    const subject = channel === 'schema' ? `${service}'s schema` : service;
    const label = channel === 'schema' ? 'schema v' : 'v';
    const what =
      verdict.version === undefined
        ? `${subject}: ${PROBLEM_WORDS[verdict.problem]}`
        : `${service} ${label}${verdict.version}`;
    this.logger.warn(
      `${what} replaced ${label}${currentVersion} on the broker (${verdict.problem}); republishing ${label}${currentVersion}. ` +
        "If this repeats, some client can write the manager's topics: check the broker's ACL.",
    );
  }

  private repair(
    current: ConfigState,
    verdict: Extract<RetainedVerdict, { kind: 'repair' }>,
  ): void {
    const { service, version } = current;
    this.recordRepair(service, 'config', verdict, version);
    if (!this.connection.isConnected()) return; // the reconnect republishes everything
    this.sent.delete(service);
    void this.publish(current);
  }

  /** Re-reads the store once per newer version seen, however often that version is repeated. */
  private learnNewer(service: string, version: number): void {
    // Workers may report it before the store is re-read: the instance view must believe them.
    this.cache.announce(service, version);
    if ((this.refreshedFor.get(service) ?? 0) >= version) return;
    this.refreshedFor.set(service, version);
    this.logger.log(`${service} v${version} was published by another replica; refreshing`);
    this.configs.refresh(service).then(
      (state) => {
        if (state.version >= version) return;
        this.metrics.retainedIncident(service, 'ahead');
        this.watch.record({ service, problem: 'ahead', version, currentVersion: state.version });
        this.logger.warn(
          `system/config/${service} holds v${version}, signed with this manager's key, but the store is at ` +
            `v${state.version}: was an older backup restored (a \`restore\` version above it follows), or does another deployment share the signing key?`,
        );
      },
      // The database is away: the next message of that version tries again.
      () => this.refreshedFor.delete(service),
    );
  }

  private markAcknowledged(service: string, version: number): void {
    if (version <= (this.acknowledged.get(service) ?? 0)) return;
    this.acknowledged.set(service, version);
    this.metrics.versionPublished(service);
    this.pendingMarks.set(service, version);
    if (this.markTimer) return;
    this.markTimer = setTimeout(() => void this.writeMarks(), MARK_DELAY_MS);
    this.markTimer.unref();
  }

  /** Writes the gathered outbox marks (and waits for a write already under way). */
  private async writeMarks(): Promise<void> {
    clearTimeout(this.markTimer);
    this.markTimer = undefined;
    await this.marking;
    if (this.pendingMarks.size === 0) return;
    const marks = [...this.pendingMarks];
    this.pendingMarks.clear();
    this.marking = this.repository.markPublished(marks).catch(() => {
      // Best effort: the mark only saves a republish after a restart, which happens anyway.
    });
    await this.marking;
    this.marking = undefined;
  }
}
