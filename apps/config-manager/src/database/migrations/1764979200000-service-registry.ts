import { MigrationInterface, QueryRunner, Table, TableColumn } from 'typeorm';

/**
 * Services registered at runtime: a service row gains its description, current schema version,
 * X25519 recipient key, origin (`code` or `api`) and archive time; every schema a service had is
 * kept in `service_schemas`; every config version records the hash of the schema it was
 * validated under (null for versions written before this migration).
 */
export class ServiceRegistry1764979200000 implements MigrationInterface {
  name = 'ServiceRegistry1764979200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumns('services', [
      new TableColumn({ name: 'description', type: 'varchar', length: '500', default: "''" }),
      new TableColumn({ name: 'schema_version', type: 'integer', default: 0 }),
      new TableColumn({ name: 'origin', type: 'varchar', length: '8', default: "'code'" }),
      new TableColumn({ name: 'recipient_key', type: 'varchar', length: '64', isNullable: true }),
      new TableColumn({ name: 'archived_at', type: 'varchar', length: '32', isNullable: true }),
    ]);
    await queryRunner.createTable(
      new Table({
        name: 'service_schemas',
        columns: [
          { name: 'service', type: 'varchar', length: '63', isPrimary: true },
          { name: 'schema_version', type: 'integer', isPrimary: true },
          { name: 'schema_hash', type: 'varchar', length: '80' },
          { name: 'document', type: 'text' },
          { name: 'created_at', type: 'varchar', length: '32' },
          { name: 'created_by', type: 'varchar', length: '100' },
          { name: 'reason', type: 'varchar', length: '500', isNullable: true },
        ],
      }),
    );
    await queryRunner.addColumn(
      'config_versions',
      new TableColumn({ name: 'schema_hash', type: 'varchar', length: '80', isNullable: true }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('config_versions', 'schema_hash');
    await queryRunner.dropTable('service_schemas');
    for (const column of [
      'archived_at',
      'recipient_key',
      'origin',
      'schema_version',
      'description',
    ]) {
      await queryRunner.dropColumn('services', column);
    }
  }
}
