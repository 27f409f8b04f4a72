import { MigrationInterface, QueryRunner, Table, TableColumn } from 'typeorm';

/**
 * Staged versions (X-Publish: staged, docs/rollouts.md): a service row gains the highest version
 * number allocated (`last_version`, the next one is one more, staged or not), a version its
 * `state` (`published` or `staged`), and the secret writes of staged versions wait in
 * `staged_secrets` until a rollout completes them.
 */
export class StagedVersions1765152000000 implements MigrationInterface {
  name = 'StagedVersions1765152000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const binary = queryRunner.connection.options.type === 'postgres' ? 'bytea' : 'blob';
    await queryRunner.addColumn(
      'services',
      new TableColumn({ name: 'last_version', type: 'integer', default: 0 }),
    );
    const services = tablePath(queryRunner, 'services');
    await queryRunner.query(
      `UPDATE ${services} SET last_version = COALESCE((SELECT MAX(v.version) FROM ` +
        `${tablePath(queryRunner, 'config_versions')} v WHERE v.service = ${services}.name), current_version)`,
    );
    await queryRunner.addColumn(
      'config_versions',
      new TableColumn({ name: 'state', type: 'varchar', length: '16', default: "'published'" }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'staged_secrets',
        columns: [
          { name: 'service', type: 'varchar', length: '63', isPrimary: true },
          { name: 'version', type: 'integer', isPrimary: true },
          { name: 'path', type: 'varchar', length: '200', isPrimary: true },
          { name: 'key_id', type: 'varchar', length: '40', isNullable: true },
          { name: 'ciphertext', type: binary, isNullable: true },
          { name: 'updated_at', type: 'varchar', length: '32' },
          { name: 'updated_by', type: 'varchar', length: '100' },
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
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('staged_secrets');
    await queryRunner.dropColumn('config_versions', 'state');
    await queryRunner.dropColumn('services', 'last_version');
  }
}

/** A table's quoted name, in the Postgres schema of DATABASE_URL (`?schema=`) when there is one. */
function tablePath(queryRunner: QueryRunner, table: string): string {
  const { schema } = queryRunner.connection.options as { schema?: string };
  return schema ? `"${schema}"."${table}"` : `"${table}"`;
}
