import type { VersionKind, VersionState } from '@app/contracts';
import { Column, Entity, PrimaryColumn, type ValueTransformer } from 'typeorm';
import { BinaryColumn } from '../../database/binary-column';

/**
 * A column whose most common value is stored as null (no bytes in a SQLite row): every version
 * row is kept forever, so its few bytes count (issue 18). Reads give the value back either way.
 */
function usualValue(usual: string): ValueTransformer {
  return {
    to: (value: unknown) => (value === usual ? null : value),
    from: (value: unknown) => value ?? usual,
  };
}

/** How `kind` and `state` are stored (also by the write path's own INSERT, VersionStore). */
export const KIND_COLUMN = usualValue('update');
export const STATE_COLUMN = usualValue('published');

/** An immutable snapshot of a service's configuration; only its `state` changes (staged → published). */
@Entity({ name: 'config_versions' })
export class ConfigVersionEntity {
  @PrimaryColumn({ type: 'varchar', length: 63 })
  service!: string;

  @PrimaryColumn({ type: 'integer' })
  version!: number;

  /** Stored as null when `update` (most versions), see usualValue. */
  @Column({ type: 'varchar', length: 16, nullable: true, transformer: KIND_COLUMN })
  kind!: VersionKind;

  /**
   * `staged` (X-Publish: staged) until a rollout deploys it; the only field that ever changes.
   * Stored as null when `published` (rows written before issue 18 hold the word).
   */
  @Column({ type: 'varchar', length: 16, nullable: true, transformer: STATE_COLUMN })
  state!: VersionState;

  @Column({ name: 'created_at', type: 'varchar', length: 32 })
  createdAt!: string;

  @Column({ name: 'created_by', type: 'varchar', length: 100 })
  createdBy!: string;

  @Column({ type: 'varchar', length: 500, nullable: true })
  reason!: string | null;

  /**
   * The schema the config was validated under, as its `service_schemas.schema_version`; null for
   * versions from before the registry, and for a hash no schema row has (then in schemaHash).
   */
  @Column({ name: 'schema_version', type: 'integer', nullable: true })
  schemaVersion!: number | null;

  /** The schema's hash, only when schemaVersion cannot name it (see VersionStore). */
  @Column({ name: 'schema_hash', type: 'varchar', length: 80, nullable: true })
  schemaHash!: string | null;

  /** Compressed JSON of the config and the secrets' set flags (see snapshot-codec.ts, VersionStore). */
  @BinaryColumn()
  snapshot!: Buffer;
}
