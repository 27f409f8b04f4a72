import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/** Whether an instance says it is stale, and when its applied version was last attested (docs/recovery.md). */
export class InstanceFreshness1765328400000 implements MigrationInterface {
  name = 'InstanceFreshness1765328400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumns('instances', [
      new TableColumn({ name: 'stale', type: 'boolean', isNullable: true }),
      new TableColumn({ name: 'attested_at', type: 'varchar', length: '32', isNullable: true }),
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('instances', 'attested_at');
    await queryRunner.dropColumn('instances', 'stale');
  }
}
