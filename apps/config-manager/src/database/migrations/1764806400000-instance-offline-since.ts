import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/** When an instance went offline (its versions are kept), and the time of its last report. */
export class InstanceOfflineSince1764806400000 implements MigrationInterface {
  name = 'InstanceOfflineSince1764806400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumns('instances', [
      new TableColumn({ name: 'offline_since', type: 'varchar', length: '32', isNullable: true }),
      new TableColumn({ name: 'reported_at', type: 'varchar', length: '32', isNullable: true }),
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('instances', 'reported_at');
    await queryRunner.dropColumn('instances', 'offline_since');
  }
}
