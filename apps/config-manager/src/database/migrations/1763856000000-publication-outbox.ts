import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/**
 * The publication outbox: the highest version of each service the broker acknowledged. A
 * version is committed first and published after; whatever is above this mark is published
 * again until the broker acknowledges it (across restarts too).
 */
export class PublicationOutbox1763856000000 implements MigrationInterface {
  name = 'PublicationOutbox1763856000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn(
      'services',
      new TableColumn({ name: 'published_version', type: 'integer', isNullable: true }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('services', 'published_version');
  }
}
