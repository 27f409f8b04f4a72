import { MigrationInterface, QueryRunner } from 'typeorm';

/** The AES-256-GCM blob of a secret at rest is its `ciphertext` ("sealed" is the X25519 box). */
export class SecretCiphertext1764892800000 implements MigrationInterface {
  name = 'SecretCiphertext1764892800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.renameColumn('secrets', 'sealed', 'ciphertext');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.renameColumn('secrets', 'ciphertext', 'sealed');
  }
}
