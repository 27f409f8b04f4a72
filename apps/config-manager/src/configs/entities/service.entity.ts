import type { ServiceOrigin } from '@app/contracts';
import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One row per registered service: the pointer to its current version (the CAS target). */
@Entity({ name: 'services' })
export class ServiceEntity {
  @PrimaryColumn({ type: 'varchar', length: 63 })
  name!: string;

  @Column({ name: 'current_version', type: 'integer' })
  currentVersion!: number;

  /** Highest version number allocated, staged or not: the next version is one more. */
  @Column({ name: 'last_version', type: 'integer', default: 0 })
  lastVersion!: number;

  @Column({ name: 'updated_at', type: 'varchar', length: 32 })
  updatedAt!: string;

  @Column({ name: 'updated_by', type: 'varchar', length: 100 })
  updatedBy!: string;

  /** Highest version the broker acknowledged (the publication outbox mark); null: none yet. */
  @Column({ name: 'published_version', type: 'integer', nullable: true })
  publishedVersion!: number | null;

  @Column({ type: 'varchar', length: 500, default: '' })
  description!: string;

  /** The current schema (service_schemas.schema_version); 0 before the first was recorded. */
  @Column({ name: 'schema_version', type: 'integer', default: 0 })
  schemaVersion!: number;

  /** `code`: registered by the manager's own code at start (its schema comes from a class); `api`: PUT /api/services/:service. */
  @Column({ type: 'varchar', length: 8, default: 'code' })
  origin!: ServiceOrigin;

  /** X25519 public key (base64) secrets are sealed to; null: SERVICE_RECIPIENT_KEYS or none. */
  @Column({ name: 'recipient_key', type: 'varchar', length: 64, nullable: true })
  recipientKey!: string | null;

  /** When the service was archived (DELETE /api/services/:service); null while active. */
  @Column({ name: 'archived_at', type: 'varchar', length: 32, nullable: true })
  archivedAt!: string | null;
}
