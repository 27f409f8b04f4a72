import { Injectable } from '@nestjs/common';
import type { RolloutState } from '@app/contracts';
import { EntityManager, In } from 'typeorm';
import { DatabaseService } from '../database/database.service';
import { runSql } from '../database/sql';
import { RolloutEntity } from './rollout.entity';
import { ACTIVE_STATES, isActive, type RolloutRecord } from './rollout-record';

/** How many rollouts of a service are in one state (the metrics gauge). */
export interface RolloutCount {
  service: string;
  state: RolloutState;
  count: number;
}

// The write path's check, a constant statement (database/sql.ts).
const ACTIVE_ROLLOUT_EXISTS = 'SELECT 1 AS found FROM {rollouts} WHERE active_service = ?';

/**
 * Every query on `rollouts`. Methods taking an EntityManager run inside the caller's
 * transaction (a write's check for an active rollout, a transition with its version and audit
 * rows); an update is a compare-and-set on the row's revision.
 */
@Injectable()
export class RolloutRepository {
  constructor(private readonly db: DatabaseService) {}

  /** The active rollout of a service, if any. */
  async findActive(manager: EntityManager, service: string): Promise<RolloutRecord | undefined> {
    // Every write asks, and almost always there is none: a constant statement answers that.
    const { rows } = await runSql(manager, ACTIVE_ROLLOUT_EXISTS, [service]);
    if (rows.length === 0) return undefined;
    const row = await manager.findOneBy(RolloutEntity, { activeService: service });
    return row ? toRecord(row) : undefined;
  }

  /** Every active rollout. */
  async listActive(): Promise<RolloutRecord[]> {
    const rows = await this.db.read((m) =>
      m.find(RolloutEntity, { where: { state: In([...ACTIVE_STATES]) } }),
    );
    return rows.map(toRecord);
  }

  /** One rollout of a service, or undefined. */
  async find(service: string, id: string): Promise<RolloutRecord | undefined> {
    const row = await this.db.read((m) => m.findOneBy(RolloutEntity, { service, id }));
    return row ? toRecord(row) : undefined;
  }

  /** One rollout, read inside the caller's transaction. */
  async findIn(manager: EntityManager, id: string): Promise<RolloutRecord | undefined> {
    const row = await manager.findOneBy(RolloutEntity, { id });
    return row ? toRecord(row) : undefined;
  }

  /** A service's rollouts, newest first. */
  async list(service: string, limit: number): Promise<RolloutRecord[]> {
    const rows = await this.db.read((m) =>
      m.find(RolloutEntity, {
        where: { service },
        order: { createdAt: 'DESC', id: 'DESC' },
        take: limit,
      }),
    );
    return rows.map(toRecord);
  }

  /** Services that ever had a rollout (their candidate topics are cleared when none is active). */
  async services(): Promise<string[]> {
    const rows = await this.db.read((m) =>
      m
        .createQueryBuilder(RolloutEntity, 'r')
        .select('DISTINCT r.service', 'service')
        .getRawMany<{ service: string }>(),
    );
    return rows.map((r) => r.service);
  }

  /** Rollouts per service and state. */
  async countByState(): Promise<RolloutCount[]> {
    const rows = await this.db.read((m) =>
      m
        .createQueryBuilder(RolloutEntity, 'r')
        .select('r.service', 'service')
        .addSelect('r.state', 'state')
        .addSelect('COUNT(*)', 'count')
        .groupBy('r.service')
        .addGroupBy('r.state')
        .getRawMany<{ service: string; state: RolloutState; count: number | string }>(),
    );
    return rows.map((r) => ({ service: r.service, state: r.state, count: Number(r.count) }));
  }

  async insert(manager: EntityManager, record: RolloutRecord): Promise<void> {
    await manager.insert(RolloutEntity, toRow(record));
  }

  /**
   * Writes `record` (whose revision is one more than `expectedRevision`) if the row is still at
   * `expectedRevision`; false when another request or replica moved it first.
   */
  async update(
    manager: EntityManager,
    record: RolloutRecord,
    expectedRevision: number,
  ): Promise<boolean> {
    const { id, ...fields } = toRow(record);
    const updated = await manager
      .createQueryBuilder()
      .update(RolloutEntity)
      .set(fields)
      .where('id = :id AND revision = :expectedRevision', { id, expectedRevision })
      .execute();
    return updated.affected === 1;
  }
}

function toRow(record: RolloutRecord): RolloutEntity {
  return {
    id: record.id,
    service: record.service,
    activeService: isActive(record.state) ? record.service : null,
    version: record.version,
    stableVersion: record.stableVersion,
    state: record.state,
    step: record.step,
    strategy: JSON.stringify(record.strategy),
    steps: JSON.stringify(record.steps),
    instances: JSON.stringify(record.instances),
    timeline: JSON.stringify(record.timeline),
    rollbackVersion: record.rollbackVersion,
    trigger: record.trigger,
    createdAt: record.createdAt,
    createdBy: record.createdBy,
    updatedAt: record.updatedAt,
    revision: record.revision,
  };
}

function toRecord(row: RolloutEntity): RolloutRecord {
  return {
    id: row.id,
    service: row.service,
    version: row.version,
    stableVersion: row.stableVersion,
    strategy: JSON.parse(row.strategy) as RolloutRecord['strategy'],
    state: row.state,
    step: row.step,
    steps: JSON.parse(row.steps) as RolloutRecord['steps'],
    instances: JSON.parse(row.instances) as RolloutRecord['instances'],
    timeline: JSON.parse(row.timeline) as RolloutRecord['timeline'],
    rollbackVersion: row.rollbackVersion,
    trigger: row.trigger as RolloutRecord['trigger'],
    createdAt: row.createdAt,
    createdBy: row.createdBy,
    updatedAt: row.updatedAt,
    revision: row.revision,
  };
}
