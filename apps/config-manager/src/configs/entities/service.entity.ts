import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One row per registered service: the pointer to its current version (the CAS target). */
@Entity({ name: 'services' })
export class ServiceEntity {
  @PrimaryColumn({ type: 'varchar', length: 63 })
  name!: string;

  @Column({ name: 'current_version', type: 'integer' })
  currentVersion!: number;

  @Column({ name: 'updated_at', type: 'varchar', length: 32 })
  updatedAt!: string;

  @Column({ name: 'updated_by', type: 'varchar', length: 100 })
  updatedBy!: string;

  /** Highest version the broker acknowledged (the publication outbox mark); null: none yet. */
  @Column({ name: 'published_version', type: 'integer', nullable: true })
  publishedVersion!: number | null;
}
