import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Compact history (issue 18): a version names the schema it was validated under by its
 * `schema_version` in service_schemas instead of repeating the 71-character hash (the hash stays
 * only where no schema row has it), and on SQLite `config_versions` becomes a WITHOUT ROWID
 * table clustered on its (service, version) key, so the key is no longer stored twice (a rowid
 * table plus its primary-key index). `kind` and `state` may be null: the most common values
 * (`update`, `published`) are stored as null (ConfigVersionEntity). Postgres keeps its table
 * and rows, gains the column and loses the two NOT NULL constraints.
 */
export class CompactHistory1765418400000 implements MigrationInterface {
  name = 'CompactHistory1765418400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const versions = tablePath(queryRunner, 'config_versions');
    const schemas = tablePath(queryRunner, 'service_schemas');
    const schemaVersion =
      `(SELECT MAX(s.schema_version) FROM ${schemas} s ` +
      `WHERE s.service = v.service AND s.schema_hash = v.schema_hash)`;
    if (queryRunner.connection.options.type === 'postgres') {
      await queryRunner.query(`ALTER TABLE ${versions} ADD COLUMN "schema_version" integer`);
      await queryRunner.query(`ALTER TABLE ${versions} ALTER COLUMN "kind" DROP NOT NULL`);
      await queryRunner.query(`ALTER TABLE ${versions} ALTER COLUMN "state" DROP NOT NULL`);
      await queryRunner.query(
        `UPDATE ${versions} v SET schema_version = ${schemaVersion}, schema_hash = NULL ` +
          `WHERE v.schema_hash IS NOT NULL AND ${schemaVersion} IS NOT NULL`,
      );
      return;
    }
    // SQLite cannot change a table into WITHOUT ROWID: a new one, the rows copied, renamed.
    // Foreign keys are off while migrations run (TypeORM), so the tables referencing it keep
    // their rows and point at the new table once it has the old name.
    await queryRunner.query(
      `CREATE TABLE "config_versions_compact" (` +
        `"service" varchar(63) NOT NULL, "version" integer NOT NULL, "kind" varchar(16), ` +
        `"state" varchar(16), "created_at" varchar(32) NOT NULL, ` +
        `"created_by" varchar(100) NOT NULL, "reason" varchar(500), "schema_version" integer, ` +
        `"schema_hash" varchar(80), "snapshot" blob NOT NULL, ` +
        `CONSTRAINT "FK_config_versions_service" FOREIGN KEY ("service") REFERENCES "services" ("name") ` +
        `ON DELETE NO ACTION ON UPDATE NO ACTION, PRIMARY KEY ("service", "version")) WITHOUT ROWID`,
    );
    await queryRunner.query(
      `INSERT INTO "config_versions_compact" ("service", "version", "kind", "state", "created_at", ` +
        `"created_by", "reason", "schema_version", "schema_hash", "snapshot") ` +
        `SELECT v.service, v.version, NULLIF(v.kind, 'update'), NULLIF(v.state, 'published'), ` +
        `v.created_at, v.created_by, v.reason, ` +
        `${schemaVersion}, CASE WHEN ${schemaVersion} IS NULL THEN v.schema_hash END, v.snapshot ` +
        `FROM "config_versions" v`,
    );
    await queryRunner.query(`DROP TABLE "config_versions"`);
    await queryRunner.query(`ALTER TABLE "config_versions_compact" RENAME TO "config_versions"`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const versions = tablePath(queryRunner, 'config_versions');
    const schemas = tablePath(queryRunner, 'service_schemas');
    const hash =
      `(SELECT s.schema_hash FROM ${schemas} s ` +
      `WHERE s.service = v.service AND s.schema_version = v.schema_version)`;
    if (queryRunner.connection.options.type === 'postgres') {
      await queryRunner.query(
        `UPDATE ${versions} v SET schema_hash = ${hash} WHERE v.schema_version IS NOT NULL`,
      );
      await queryRunner.query(`ALTER TABLE ${versions} DROP COLUMN "schema_version"`);
      await queryRunner.query(
        `UPDATE ${versions} SET kind = COALESCE(kind, 'update'), state = COALESCE(state, 'published') ` +
          `WHERE kind IS NULL OR state IS NULL`,
      );
      await queryRunner.query(`ALTER TABLE ${versions} ALTER COLUMN "kind" SET NOT NULL`);
      await queryRunner.query(`ALTER TABLE ${versions} ALTER COLUMN "state" SET NOT NULL`);
      return;
    }
    await queryRunner.query(
      `CREATE TABLE "config_versions_rowid" (` +
        `"service" varchar(63) NOT NULL, "version" integer NOT NULL, "kind" varchar(16) NOT NULL, ` +
        `"created_at" varchar(32) NOT NULL, "created_by" varchar(100) NOT NULL, "reason" varchar(500), ` +
        `"snapshot" blob NOT NULL, "schema_hash" varchar(80), ` +
        `"state" varchar(16) NOT NULL DEFAULT ('published'), ` +
        `CONSTRAINT "FK_config_versions_service" FOREIGN KEY ("service") REFERENCES "services" ("name") ` +
        `ON DELETE NO ACTION ON UPDATE NO ACTION, PRIMARY KEY ("service", "version"))`,
    );
    await queryRunner.query(
      `INSERT INTO "config_versions_rowid" ("service", "version", "kind", "created_at", "created_by", ` +
        `"reason", "snapshot", "schema_hash", "state") ` +
        `SELECT v.service, v.version, COALESCE(v.kind, 'update'), v.created_at, v.created_by, ` +
        `v.reason, v.snapshot, COALESCE(v.schema_hash, ${hash}), COALESCE(v.state, 'published') ` +
        `FROM "config_versions" v`,
    );
    await queryRunner.query(`DROP TABLE "config_versions"`);
    await queryRunner.query(`ALTER TABLE "config_versions_rowid" RENAME TO "config_versions"`);
  }
}

/** A table's quoted name, in the Postgres schema of DATABASE_URL (`?schema=`) when there is one. */
function tablePath(queryRunner: QueryRunner, table: string): string {
  const { schema } = queryRunner.connection.options as { schema?: string };
  return schema ? `"${schema}"."${table}"` : `"${table}"`;
}
