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

  @Column({ name: 'updated_at', type: 'varchar', length: 32 })
  updatedAt!: string;

  @Column({ name: 'updated_by', type: 'varchar', length: 100 })
  updatedBy!: string;
}
