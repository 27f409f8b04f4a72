import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/**
 * The version bound in each secret ciphertext's additional data (docs/recovery.md). Existing
 * rows get null here: the manager re-encrypts them with their binding at its next start (the
 * migration has no master key), and refuses to open a row without one afterwards.
 */
export class SecretVersionBinding1765332000000 implements MigrationInterface {
  name = 'SecretVersionBinding1765332000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['secrets', 'staged_secrets']) {
      await queryRunner.addColumn(
        table,
        new TableColumn({ name: 'aad_version', type: 'integer', isNullable: true }),
      );
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('staged_secrets', 'aad_version');
    await queryRunner.dropColumn('secrets', 'aad_version');
  }
}
