import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * Who changed what, when and why; `changes` holds paths only for secrets, never values. The row of
 * a change that made a version (version_after) may leave out what the version's row holds:
 * `at` and `actor` empty (and `reason` null) mean the version's created_at, created_by and
 * reason; `kind` empty means the version's kind; `changes` empty means the difference from version_before to version_after
 * (VersionStore.changesBetween, checked when the row was written). Recorded values are never
 * empty.
 */
@Entity({ name: 'audit_log' })
export class AuditEntryEntity {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'varchar', length: 32 })
  at!: string;

  @Column({ type: 'varchar', length: 100 })
  actor!: string;

  @Column({ type: 'varchar', length: 63 })
  service!: string;

  @Column({ type: 'varchar', length: 16 })
  kind!: string;

  @Column({ name: 'version_before', type: 'integer', nullable: true })
  versionBefore!: number | null;

  @Column({ name: 'version_after', type: 'integer', nullable: true })
  versionAfter!: number | null;

  @Column({ type: 'varchar', length: 500, nullable: true })
  reason!: string | null;

  /** JSON array of `{ path, from, to }` or `{ path, changed: true }` for secrets. */
  @Column({ type: 'text' })
  changes!: string;
}
