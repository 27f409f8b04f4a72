import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** Who changed what, when and why; `changes` holds paths only for secrets, never values. */
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
