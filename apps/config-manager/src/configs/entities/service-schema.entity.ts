import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One schema a service had (immutable): its JSON Schema document, who set it, when and why. */
@Entity({ name: 'service_schemas' })
export class ServiceSchemaEntity {
  @PrimaryColumn({ type: 'varchar', length: 63 })
  service!: string;

  @PrimaryColumn({ name: 'schema_version', type: 'integer' })
  schemaVersion!: number;

  @Column({ name: 'schema_hash', type: 'varchar', length: 80 })
  schemaHash!: string;

  /** The JSON Schema as JSON text. */
  @Column({ type: 'text' })
  document!: string;

  @Column({ name: 'created_at', type: 'varchar', length: 32 })
  createdAt!: string;

  @Column({ name: 'created_by', type: 'varchar', length: 100 })
  createdBy!: string;

  @Column({ type: 'varchar', length: 500, nullable: true })
  reason!: string | null;
}
