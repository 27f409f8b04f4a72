import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';

/** Services, immutable versions, sealed secrets and the audit log. */
export class InitialSchema1763769600000 implements MigrationInterface {
  name = 'InitialSchema1763769600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const binary = queryRunner.connection.options.type === 'postgres' ? 'bytea' : 'blob';
    const serviceName = { type: 'varchar', length: '63' };
    const timestamp = { type: 'varchar', length: '32' };
    const actor = { type: 'varchar', length: '100' };

    await queryRunner.createTable(
      new Table({
        name: 'services',
        columns: [
          { name: 'name', ...serviceName, isPrimary: true },
          { name: 'current_version', type: 'integer' },
          { name: 'updated_at', ...timestamp },
          { name: 'updated_by', ...actor },
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'config_versions',
        columns: [
          { name: 'service', ...serviceName, isPrimary: true },
          { name: 'version', type: 'integer', isPrimary: true },
          { name: 'kind', type: 'varchar', length: '16' },
          { name: 'created_at', ...timestamp },
          { name: 'created_by', ...actor },
          { name: 'reason', type: 'varchar', length: '500', isNullable: true },
          { name: 'snapshot', type: binary },
        ],
        foreignKeys: [
          {
            columnNames: ['service'],
            referencedTableName: 'services',
            referencedColumnNames: ['name'],
          },
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'secrets',
        columns: [
          { name: 'service', ...serviceName, isPrimary: true },
          { name: 'path', type: 'varchar', length: '200', isPrimary: true },
          { name: 'key_id', type: 'varchar', length: '40' },
          { name: 'sealed', type: binary },
          { name: 'updated_at', ...timestamp },
          { name: 'updated_by', ...actor },
        ],
        foreignKeys: [
          {
            columnNames: ['service'],
            referencedTableName: 'services',
            referencedColumnNames: ['name'],
          },
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'audit_log',
        columns: [
          {
            name: 'id',
            type: 'integer',
            isPrimary: true,
            isGenerated: true,
            generationStrategy: 'increment',
          },
          { name: 'at', ...timestamp },
          { name: 'actor', ...actor },
          { name: 'service', ...serviceName },
          { name: 'kind', type: 'varchar', length: '16' },
          { name: 'version_before', type: 'integer', isNullable: true },
          { name: 'version_after', type: 'integer', isNullable: true },
          { name: 'reason', type: 'varchar', length: '500', isNullable: true },
          { name: 'changes', type: 'text' },
        ],
      }),
    );
    await queryRunner.createIndex(
      'audit_log',
      new TableIndex({ name: 'idx_audit_log_service_id', columnNames: ['service', 'id'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('audit_log');
    await queryRunner.dropTable('secrets');
    await queryRunner.dropTable('config_versions');
    await queryRunner.dropTable('services');
  }
}
