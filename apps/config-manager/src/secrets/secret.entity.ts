import { Column, Entity, PrimaryColumn } from 'typeorm';
import { BinaryColumn } from '../database/binary-column';

/** The current value of one secret, AES-256-GCM encrypted; a cleared secret has no row. */
@Entity({ name: 'secrets' })
export class SecretEntity {
  @PrimaryColumn({ type: 'varchar', length: 63 })
  service!: string;

  @PrimaryColumn({ type: 'varchar', length: 200 })
  path!: string;

  /** Id of the master key that encrypted `ciphertext` (see MasterKeyRing). */
  @Column({ name: 'key_id', type: 'varchar', length: 40 })
  keyId!: string;

  @BinaryColumn()
  ciphertext!: Buffer;

  /**
   * The config version bound in the ciphertext's additional data (with service and path), so a
   * ciphertext copied from another version's row does not open here; null: written before
   * versions were bound (re-encrypted with its binding at the next start or secrets:rotate).
   */
  @Column({ name: 'aad_version', type: 'integer', nullable: true })
  aadVersion!: number | null;

  @Column({ name: 'updated_at', type: 'varchar', length: 32 })
  updatedAt!: string;

  @Column({ name: 'updated_by', type: 'varchar', length: 100 })
  updatedBy!: string;
}
