import { MigrationInterface, QueryRunner, Table } from 'typeorm';

/** What each worker instance last reported, for GET /api/services/:service/instances. */
export class Instances1763942400000 implements MigrationInterface {
  name = 'Instances1763942400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'instances',
        columns: [
          { name: 'service', type: 'varchar', length: '63', isPrimary: true },
          { name: 'instance_id', type: 'varchar', length: '128', isPrimary: true },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'applied_version', type: 'integer', isNullable: true },
          { name: 'staged_version', type: 'integer', isNullable: true },
          { name: 'last_run_version', type: 'integer', isNullable: true },
          { name: 'schema_drift', type: 'boolean', default: false },
          { name: 'last_rejection', type: 'text', isNullable: true },
          { name: 'last_seen', type: 'varchar', length: '32' },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('instances');
  }
}
