import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/** What an instance reports about itself for rollouts: its labels, run counts and last run (JSON). */
export class InstanceLabelsRuns1765065600000 implements MigrationInterface {
  name = 'InstanceLabelsRuns1765065600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumns('instances', [
      new TableColumn({ name: 'labels', type: 'text', isNullable: true }),
      new TableColumn({ name: 'runs', type: 'text', isNullable: true }),
      new TableColumn({ name: 'last_run', type: 'text', isNullable: true }),
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('instances', 'last_run');
    await queryRunner.dropColumn('instances', 'runs');
    await queryRunner.dropColumn('instances', 'labels');
  }
}
