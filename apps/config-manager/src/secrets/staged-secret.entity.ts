import { Column, Entity, PrimaryColumn } from 'typeorm';
import { BinaryColumn } from '../database/binary-column';

/**
 * A secret write of a staged version (X-Publish: staged), kept apart from the current secrets
 * until a rollout completes that version: AES-256-GCM like them, or a clear (no ciphertext).
 */
@Entity({ name: 'staged_secrets' })
export class StagedSecretEntity {
  @PrimaryColumn({ type: 'varchar', length: 63 })
  service!: string;

  @PrimaryColumn({ type: 'integer' })
  version!: number;

  @PrimaryColumn({ type: 'varchar', length: 200 })
  path!: string;

  /** Id of the master key that encrypted `ciphertext`; null for a clear. */
  @Column({ name: 'key_id', type: 'varchar', length: 40, nullable: true })
  keyId!: string | null;

  /** null: the staged version clears the secret. */
  @BinaryColumn({ nullable: true })
  ciphertext!: Buffer | null;

  /** The staged version, bound in the additional data like a current secret's (null: a clear, or written before). */
  @Column({ name: 'aad_version', type: 'integer', nullable: true })
  aadVersion!: number | null;

  @Column({ name: 'updated_at', type: 'varchar', length: 32 })
  updatedAt!: string;

  @Column({ name: 'updated_by', type: 'varchar', length: 100 })
  updatedBy!: string;
}
