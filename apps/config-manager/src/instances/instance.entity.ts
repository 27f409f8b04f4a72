import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The last status a worker instance reported (its retained health message). */
@Entity({ name: 'instances' })
export class InstanceEntity {
  @PrimaryColumn({ type: 'varchar', length: 63 })
  service!: string;

  @PrimaryColumn({ name: 'instance_id', type: 'varchar', length: 128 })
  instanceId!: string;

  @Column({ type: 'varchar', length: 16 })
  status!: string;

  @Column({ name: 'applied_version', type: 'integer', nullable: true })
  appliedVersion!: number | null;

  @Column({ name: 'staged_version', type: 'integer', nullable: true })
  stagedVersion!: number | null;

  @Column({ name: 'last_run_version', type: 'integer', nullable: true })
  lastRunVersion!: number | null;

  @Column({ name: 'schema_drift', type: 'boolean', default: false })
  schemaDrift!: boolean;

  /** JSON `{ version?, reason, at }` of the last refused envelope (never secret values). */
  @Column({ name: 'last_rejection', type: 'text', nullable: true })
  lastRejection!: string | null;

  /** JSON `{ "<key>": "<value>" }` of the labels it reports (INSTANCE_LABELS); null: none. */
  @Column({ type: 'text', nullable: true })
  labels!: string | null;

  /** JSON `{ version, completed, failed }`: runs finished on the version its last run used. */
  @Column({ type: 'text', nullable: true })
  runs!: string | null;

  /** JSON `{ version, ok, at }` of its last finished run. */
  @Column({ name: 'last_run', type: 'text', nullable: true })
  lastRun!: string | null;

  /** Whether it said it is stale (CONFIG_MAX_STALENESS); null: it does not say. */
  @Column({ type: 'boolean', nullable: true })
  stale!: boolean | null;

  /** When the manager last vouched for its applied version, as it reported. */
  @Column({ name: 'attested_at', type: 'varchar', length: 32, nullable: true })
  attestedAt!: string | null;

  @Column({ name: 'last_seen', type: 'varchar', length: 32 })
  lastSeen!: string;

  /** When the instance went offline; null while it is up. */
  @Column({ name: 'offline_since', type: 'varchar', length: 32, nullable: true })
  offlineSince!: string | null;

  /** The `at` of the report the row was built from (recognises a retained report seen again). */
  @Column({ name: 'reported_at', type: 'varchar', length: 32, nullable: true })
  reportedAt!: string | null;
}
