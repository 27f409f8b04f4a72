import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { INSTANCE_HEALTH_TOPIC_FILTER, type InstanceCounts } from '@app/contracts';
import { DatabaseService } from '../database/database.service';
import { BrokerConnectionService } from '../messaging/broker-connection.service';
import { InstanceEntity } from './instance.entity';
import { InstanceView, parseInstanceHealth } from './instance-status';

/** How often reported statuses are written to the database (one transaction per batch). */
const FLUSH_INTERVAL_MS = 500;

export type { InstanceCounts } from '@app/contracts';

/** How many instances of a service run one applied version with one status. */
export interface VersionGroup {
  service: string;
  version: number | null;
  status: InstanceView['status'];
  count: number;
}

/**
 * The per-instance view of the fleet: every worker's retained health message (including the
 * `offline` its last will leaves) as it arrives, served from memory and persisted in batches
 * so a fleet of thousands reporting at once costs one transaction per half second.
 */
@Injectable()
export class InstancesService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(InstancesService.name);
  private readonly views = new Map<string, InstanceView>();
  private readonly dirty = new Set<string>();
  private readonly removed = new Map<string, { service: string; instanceId: string }>();
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly db: DatabaseService,
    private readonly broker: BrokerConnectionService,
  ) {}

  async onModuleInit(): Promise<void> {
    const rows = await this.db.read((m) => m.find(InstanceEntity));
    for (const row of rows) {
      this.views.set(key(row.service, row.instanceId), {
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
        lastSeen: row.lastSeen,
      });
    }
    this.broker.subscribe(this.broker.topic(INSTANCE_HEALTH_TOPIC_FILTER), (topic, payload) =>
      this.onHealth(topic.slice(this.broker.topic('').length), payload),
    );
    this.flushTimer = setInterval(() => void this.flush(), FLUSH_INTERVAL_MS);
    this.flushTimer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.flushTimer);
    await this.flush();
  }

  /** The instances of a service, most recently seen first. */
  list(service: string): InstanceView[] {
    return [...this.views.values()]
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
    for (const view of this.views.values()) {
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
    for (const view of this.views.values()) {
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

  private onHealth(topic: string, payload: Buffer): void {
    const parsed = parseInstanceHealth(topic, payload, new Date().toISOString());
    if (!parsed) return;
    if ('removed' in parsed) {
      const id = key(parsed.removed.service, parsed.removed.instanceId);
      this.views.delete(id);
      this.dirty.delete(id);
      this.removed.set(id, parsed.removed);
      return;
    }
    const id = key(parsed.service, parsed.instanceId);
    const before = this.views.get(id);
    if (before && before.status !== parsed.status) {
      this.logger.log(
        `${parsed.service}/${parsed.instanceId} is ${parsed.status} (applied v${parsed.appliedVersion ?? '-'})`,
      );
    }
    this.views.set(id, parsed);
    this.removed.delete(id);
    this.dirty.add(id);
  }

  /** Writes changed views in one transaction; on failure they stay dirty for the next try. */
  private async flush(): Promise<void> {
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
          const v = this.views.get(id);
          return v
            ? [{ ...v, lastRejection: v.lastRejection ? JSON.stringify(v.lastRejection) : null }]
            : [];
        });
        for (let i = 0; i < rows.length; i += 200) {
          await m.upsert(InstanceEntity, rows.slice(i, i + 200), ['service', 'instanceId']);
        }
      })
      .catch(() => {
        for (const id of ids) if (this.views.has(id)) this.dirty.add(id);
        for (const [id, gone] of removed) if (!this.views.has(id)) this.removed.set(id, gone);
      })
      .finally(() => {
        this.flushing = undefined;
      });
    return this.flushing;
  }
}

function key(service: string, instanceId: string): string {
  return `${service}\0${instanceId}`;
}
