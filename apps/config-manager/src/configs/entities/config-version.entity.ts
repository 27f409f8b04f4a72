import type { VersionKind, VersionState } from '@app/contracts';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { BinaryColumn } from '../../database/binary-column';

/** An immutable snapshot of a service's configuration; only its `state` changes (staged → published). */
@Entity({ name: 'config_versions' })
export class ConfigVersionEntity {
  @PrimaryColumn({ type: 'varchar', length: 63 })
  service!: string;

  @PrimaryColumn({ type: 'integer' })
  version!: number;

  @Column({ type: 'varchar', length: 16 })
  kind!: VersionKind;

  /** `staged` (X-Publish: staged) until a rollout deploys it; the only field that ever changes. */
  @Column({ type: 'varchar', length: 16, default: 'published' })
  state!: VersionState;

  @Column({ name: 'created_at', type: 'varchar', length: 32 })
  createdAt!: string;

  @Column({ name: 'created_by', type: 'varchar', length: 100 })
  createdBy!: string;

  @Column({ type: 'varchar', length: 500, nullable: true })
  reason!: string | null;

  /** The schema the config was validated under; null for versions from before the registry. */
  @Column({ name: 'schema_hash', type: 'varchar', length: 80, nullable: true })
  schemaHash!: string | null;

  /** Compressed JSON of the config and the secrets' set flags (see snapshot-codec.ts). */
  @BinaryColumn()
  snapshot!: Buffer;
}
