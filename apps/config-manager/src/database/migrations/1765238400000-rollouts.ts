import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';

/**
 * Rollouts (docs/rollouts.md): one row per rollout with its state machine; `active_service` is
 * set only while the rollout is active and is unique, so a service has at most one active.
 */
export class Rollouts1765238400000 implements MigrationInterface {
  name = 'Rollouts1765238400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const timestamp = { type: 'varchar', length: '32' };
    await queryRunner.createTable(
      new Table({
        name: 'rollouts',
        columns: [
          { name: 'id', type: 'varchar', length: '40', isPrimary: true },
          { name: 'service', type: 'varchar', length: '63' },
          { name: 'active_service', type: 'varchar', length: '63', isNullable: true },
          { name: 'version', type: 'integer' },
          { name: 'stable_version', type: 'integer' },
          { name: 'state', type: 'varchar', length: '16' },
          { name: 'step', type: 'integer' },
          { name: 'strategy', type: 'text' },
          { name: 'steps', type: 'text' },
          { name: 'instances', type: 'text' },
          { name: 'timeline', type: 'text' },
          { name: 'rollback_version', type: 'integer', isNullable: true },
          { name: 'trigger', type: 'varchar', length: '120', isNullable: true },
          { name: 'created_at', ...timestamp },
          { name: 'created_by', type: 'varchar', length: '100' },
          { name: 'updated_at', ...timestamp },
          { name: 'revision', type: 'integer' },
        ],
        foreignKeys: [
          {
            columnNames: ['service', 'version'],
            referencedTableName: 'config_versions',
            referencedColumnNames: ['service', 'version'],
          },
        ],
      }),
    );
    await queryRunner.createIndex(
      'rollouts',
      new TableIndex({
        name: 'rollouts_one_active_per_service',
        columnNames: ['active_service'],
        isUnique: true,
      }),
    );
    await queryRunner.createIndex(
      'rollouts',
      new TableIndex({ name: 'rollouts_by_service', columnNames: ['service', 'created_at'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('rollouts');
  }
}
