import type { RolloutState } from '@app/contracts';
import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * One rollout of a staged version (docs/rollouts.md): where its state machine is, persisted at
 * every transition so that a restarted manager resumes it. The JSON columns hold the strategy,
 * the steps as they started, the per-instance states and the timeline.
 */
@Entity({ name: 'rollouts' })
export class RolloutEntity {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id!: string;

  @Column({ type: 'varchar', length: 63 })
  service!: string;

  /** The service while the rollout is active, null once it ended: unique, so at most one is. */
  @Column({ name: 'active_service', type: 'varchar', length: 63, nullable: true })
  activeService!: string | null;

  /** The candidate (a staged version). */
  @Column({ type: 'integer' })
  version!: number;

  @Column({ name: 'stable_version', type: 'integer' })
  stableVersion!: number;

  @Column({ type: 'varchar', length: 16 })
  state!: RolloutState;

  /** 1-based step; 0 before the first started. */
  @Column({ type: 'integer' })
  step!: number;

  /** JSON RolloutStrategy, with its defaults filled in. */
  @Column({ type: 'text' })
  strategy!: string;

  /** JSON array: each step's cohort, targeted instances, start and acknowledgement times. */
  @Column({ type: 'text' })
  steps!: string;

  /** JSON array of `{ instanceId, step, state }` for every targeted instance. */
  @Column({ type: 'text' })
  instances!: string;

  /** JSON array of RolloutEvent, oldest first. */
  @Column({ type: 'text' })
  timeline!: string;

  @Column({ name: 'rollback_version', type: 'integer', nullable: true })
  rollbackVersion!: number | null;

  @Column({ type: 'varchar', length: 120, nullable: true })
  trigger!: string | null;

  @Column({ name: 'created_at', type: 'varchar', length: 32 })
  createdAt!: string;

  @Column({ name: 'created_by', type: 'varchar', length: 100 })
  createdBy!: string;

  @Column({ name: 'updated_at', type: 'varchar', length: 32 })
  updatedAt!: string;

  /** Raised by every update: the compare-and-set target between replicas and requests. */
  @Column({ type: 'integer' })
  revision!: number;
}
