import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import {
  INSTANCE_HEALTH_TOPIC_FILTER,
  type InstanceCounts,
  type InstanceView,
} from '@app/contracts';
import { ConfigCacheService } from '../configs/config-cache.service';
import { DatabaseService } from '../database/database.service';
import { BrokerConnectionService } from '../messaging/broker-connection.service';
import type { Settings } from '../settings/settings';
import { SETTINGS } from '../settings/settings.module';
import { InstanceEntity } from './instance.entity';
import { type HealthRefusal, parseInstanceHealth, REFUSAL_WORDS } from './instance-status';
import { mergeReport } from './instance-view';
import { ServiceCatalog } from '../configs/service-catalog';

/** How often reported statuses are written to the database (one transaction per batch). */
const FLUSH_INTERVAL_MS = 500;
/** How often at most instances offline for longer than the TTL are looked for. */
const EXPIRY_SWEEP_MS = 60_000;
/** Refusals of one kind are logged at most this often per service (they are all counted). */
const REFUSAL_LOG_INTERVAL_MS = 60_000;

/** How many instances of a service run one applied version with one status. */
export interface VersionGroup {
  service: string;
  version: number | null;
  status: InstanceView['status'];
  count: number;
}

/** A view entry plus what the view needs to judge the next report. */
interface Entry {
  view: InstanceView;
  /** The `at` of the report the view was built from, to recognise the same retained report again. */
  reportedAt: string | null;
}

/**
 * The per-instance view of the fleet: every worker's retained health message (including the
 * `offline` its last will leaves) as it arrives, served from memory and persisted in batches
 * so a fleet of thousands reporting at once costs one transaction per half second.
 *
 * The view is bounded and believes only plausible reports: at most INSTANCES_MAX_PER_SERVICE
 * instances per service, instances offline for longer than INSTANCE_OFFLINE_TTL_SECONDS expire,
 * and a payload that names another service or instance than its topic, or a version above
 * anything published, is refused and counted. An `offline` report (often the last will, which
 * the broker fixed at CONNECT with the versions of that moment) keeps the versions last seen.
 *
 * The subscription uses the manager's one raw MQTT connection, not a Nest `@EventPattern` on
 * @nestjs/microservices' MQTT transport: that transport opens a connection of its own, and with
 * one broker user per process (use_username_as_clientid) a second connection under the manager's
 * user would take over the first; it would also hide the retain flag this view relies on.
 */
@Injectable()
export class InstancesService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(InstancesService.name);
  private readonly entries = new Map<string, Entry>();
  private readonly perService = new Map<string, number>();
  private readonly dirty = new Set<string>();
  private readonly removed = new Map<string, { service: string; instanceId: string }>();
  private readonly refusals = new Map<string, number>();
  private readonly refusalLogged = new Map<string, number>();
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private lastSweep = 0;

  constructor(
    @Inject(SETTINGS) private readonly settings: Settings,
    private readonly db: DatabaseService,
    private readonly broker: BrokerConnectionService,
    private readonly versions: ConfigCacheService,
    private readonly catalog: ServiceCatalog,
  ) {}

  async onModuleInit(): Promise<void> {
    // A cold start serves what the bus reports until the store returns; its rows then fill in
    // the instances that have not reported since.
    await this.db.whenConnected('load the instance view', () => this.loadStored());
    this.broker.subscribe(
      this.broker.topic(INSTANCE_HEALTH_TOPIC_FILTER),
      (topic, payload, retained) =>
        this.onHealth(topic.slice(this.broker.topic('').length), payload, retained),
    );
    this.flushTimer = setInterval(() => void this.flush(), FLUSH_INTERVAL_MS);
    this.flushTimer.unref();
  }

  private async loadStored(): Promise<void> {
    const rows = await this.db.read((m) => m.find(InstanceEntity));
    for (const row of rows) {
      if (this.entries.has(key(row.service, row.instanceId))) continue;
      this.put(key(row.service, row.instanceId), {
        view: {
          service: row.service,
          instanceId: row.instanceId,
          status: row.status as InstanceView['status'],
          appliedVersion: row.appliedVersion,
          stagedVersion: row.stagedVersion,
          lastRunVersion: row.lastRunVersion,
          schemaDrift: row.schemaDrift,
          lastRejection: row.lastRejection
            ? (JSON.parse(row.lastRejection) as InstanceView['lastRejection'])
            : null,
          labels: row.labels ? (JSON.parse(row.labels) as InstanceView['labels']) : {},
          runs: row.runs ? (JSON.parse(row.runs) as InstanceView['runs']) : null,
          lastRun: row.lastRun ? (JSON.parse(row.lastRun) as InstanceView['lastRun']) : null,
          stale: row.stale,
          attestedAt: row.attestedAt,
          lastSeen: row.lastSeen,
          offlineSince: row.offlineSince,
        },
        reportedAt: row.reportedAt,
      });
    }
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.flushTimer);
    await this.flush();
  }

  /** The instances of a service, most recently seen first. */
  list(service: string): InstanceView[] {
    return [...this.entries.values()]
      .map((entry) => entry.view)
      .filter((v) => v.service === service)
      .sort(
        (a, b) => b.lastSeen.localeCompare(a.lastSeen) || a.instanceId.localeCompare(b.instanceId),
      );
  }

  /** How many instances of a service are up, and how many of those run `currentVersion`. */
  counts(service: string, currentVersion: number): InstanceCounts {
    const counts: InstanceCounts = {
      total: 0,
      online: 0,
      degraded: 0,
      offline: 0,
      onCurrentVersion: 0,
    };
    for (const { view } of this.entries.values()) {
      if (view.service !== service) continue;
      counts.total++;
      counts[view.status]++;
      if (view.status !== 'offline' && view.appliedVersion === currentVersion)
        counts.onCurrentVersion++;
    }
    return counts;
  }

  /** Instances grouped by service, applied version and status (the metrics gauge). */
  byAppliedVersion(): VersionGroup[] {
    const groups = new Map<string, VersionGroup>();
    for (const { view } of this.entries.values()) {
      const id = `${view.service}\u0000${view.appliedVersion}\u0000${view.status}`;
      const group = groups.get(id) ?? {
        service: view.service,
        version: view.appliedVersion,
        status: view.status,
        count: 0,
      };
      group.count++;
      groups.set(id, group);
    }
    return [...groups.values()];
  }

  /**
   * Per service with instances in the view, how many that are up say they are stale (the
   * metrics gauge; docs/recovery.md): 0 for a service whose instances are all fresh.
   */
  staleByService(): Array<{ service: string; count: number }> {
    const counts = new Map<string, number>();
    for (const { view } of this.entries.values()) {
      const stale = view.stale === true && view.status !== 'offline' ? 1 : 0;
      counts.set(view.service, (counts.get(view.service) ?? 0) + stale);
    }
    return [...counts].map(([service, count]) => ({ service, count }));
  }

  /** Health messages refused since start, by service and reason (the metrics counter). */
  refused(): Array<{ service: string; reason: HealthRefusal; count: number }> {
    return [...this.refusals].map(([id, count]) => {
      const [service, reason] = id.split('\0') as [string, HealthRefusal];
      return { service, reason, count };
    });
  }

  private onHealth(topic: string, payload: Buffer, retained: boolean): void {
    const now = new Date();
    const message = parseInstanceHealth(
      topic,
      payload,
      now,
      (s) => this.catalog.find(s) !== undefined,
    );
    if (!message) return;
    if (message.kind === 'refused') {
      this.refuse(message.service, message.reason);
      return;
    }
    if (message.kind === 'removed') {
      this.remove(key(message.service, message.instanceId), message);
      return;
    }
    const report = message.report;
    const id = key(report.service, report.instanceId);
    const before = this.entries.get(id);
    // A retained report is a replay of the past (delivered on subscribing): if the view already
    // holds it, or something newer, there is nothing to learn.
    if (retained && before && (report.reportedAt ?? '') <= (before.reportedAt ?? '')) return;
    // A live report written before the one held is the past too: a bridge between two brokers
    // re-sends the other broker's (older) retained reports after a partition, without the
    // retain flag. (The same time may be a second report written within that millisecond.)
    // A last will is exempt: the broker fixed it, and its `at`, at CONNECT, long before the
    // reports it now ends; it is how the view learns that the instance died.
    if (
      !retained &&
      report.status !== 'offline' &&
      before?.reportedAt &&
      report.reportedAt !== undefined &&
      report.reportedAt < before.reportedAt
    ) {
      return;
    }
    const ceiling = this.versions.highestKnownVersion(report.service) ?? 0;
    const claimed = Math.max(report.appliedVersion ?? 0, report.stagedVersion ?? 0);
    if (claimed > ceiling || (report.lastRunVersion ?? 0) > ceiling) {
      this.refuse(report.service, 'version');
      return;
    }
    if (!before && !this.makeRoom(report.service, now)) {
      this.refuse(report.service, 'capacity');
      return;
    }
    // A replayed report tells when it was made, not when it reached us.
    const seenAt = retained && report.reportedAt ? report.reportedAt : now.toISOString();
    const view = mergeReport(before?.view, report, seenAt);
    if (before && before.view.status !== view.status) {
      this.logger.log(
        `${view.service}/${view.instanceId} is ${view.status} (applied v${view.appliedVersion ?? '-'})`,
      );
    }
    this.put(id, { view, reportedAt: report.reportedAt ?? null });
    this.removed.delete(id);
    this.dirty.add(id);
  }

  /** Whether a new instance of `service` fits; expired offline instances make room first. */
  private makeRoom(service: string, now: Date): boolean {
    if ((this.perService.get(service) ?? 0) < this.settings.instancesMaxPerService) return true;
    this.expire(now, true);
    return (this.perService.get(service) ?? 0) < this.settings.instancesMaxPerService;
  }

  /** Removes instances offline for longer than the TTL (at most once a minute unless forced). */
  private expire(now: Date, force = false): void {
    if (!force && now.getTime() - this.lastSweep < Math.min(EXPIRY_SWEEP_MS, this.ttlMs())) return;
    this.lastSweep = now.getTime();
    const cutoff = new Date(now.getTime() - this.ttlMs()).toISOString();
    for (const [id, { view }] of this.entries) {
      if (view.status === 'offline' && (view.offlineSince ?? view.lastSeen) < cutoff) {
        this.logger.log(
          `${view.service}/${view.instanceId} has been offline since ${view.offlineSince ?? view.lastSeen}: removed from the instance view`,
        );
        this.remove(id, view);
      }
    }
  }

  private ttlMs(): number {
    return this.settings.instanceOfflineTtlMs;
  }

  private put(id: string, entry: Entry): void {
    if (!this.entries.has(id)) {
      this.perService.set(entry.view.service, (this.perService.get(entry.view.service) ?? 0) + 1);
    }
    this.entries.set(id, entry);
  }

  private remove(id: string, gone: { service: string; instanceId: string }): void {
    if (this.entries.delete(id)) {
      this.perService.set(gone.service, (this.perService.get(gone.service) ?? 1) - 1);
    }
    this.dirty.delete(id);
    this.removed.set(id, { service: gone.service, instanceId: gone.instanceId });
  }

  private refuse(service: string, reason: HealthRefusal): void {
    const id = `${service}\0${reason}`;
    this.refusals.set(id, (this.refusals.get(id) ?? 0) + 1);
    const now = Date.now();
    if (now - (this.refusalLogged.get(id) ?? 0) < REFUSAL_LOG_INTERVAL_MS) return;
    this.refusalLogged.set(id, now);
    this.logger.warn(
      `Refused a health report for ${service} (${REFUSAL_WORDS[reason]}); ${this.refusals.get(id)} so far. ` +
        'Repeated, this means some client can write system/health/: check the broker ACL (one user per instance).',
    );
  }

  /** Writes changed views in one transaction; on failure they stay dirty for the next try. */
  private async flush(): Promise<void> {
    this.expire(new Date());
    if (this.flushing) return this.flushing;
    if (this.dirty.size === 0 && this.removed.size === 0) return;
    const ids = [...this.dirty];
    const removed = [...this.removed.entries()];
    this.dirty.clear();
    this.removed.clear();
    this.flushing = this.db
      .transaction(async (m) => {
        for (const [, gone] of removed) await m.delete(InstanceEntity, gone);
        const rows = ids.flatMap((id) => {
          const entry = this.entries.get(id);
          return entry ? [toRow(entry)] : [];
        });
        for (let i = 0; i < rows.length; i += 200) {
          await m.upsert(InstanceEntity, rows.slice(i, i + 200), ['service', 'instanceId']);
        }
      })
      .catch(() => {
        for (const id of ids) if (this.entries.has(id)) this.dirty.add(id);
        for (const [id, gone] of removed) if (!this.entries.has(id)) this.removed.set(id, gone);
      })
      .finally(() => {
        this.flushing = undefined;
      });
    return this.flushing;
  }
}

function toRow(entry: Entry): InstanceEntity {
  const { view } = entry;
  return {
    ...view,
    lastRejection: view.lastRejection ? JSON.stringify(view.lastRejection) : null,
    labels: Object.keys(view.labels).length > 0 ? JSON.stringify(view.labels) : null,
    runs: view.runs ? JSON.stringify(view.runs) : null,
    lastRun: view.lastRun ? JSON.stringify(view.lastRun) : null,
    reportedAt: entry.reportedAt,
  };
}

function key(service: string, instanceId: string): string {
  return `${service}\0${instanceId}`;
}
