import { copyFileSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import type { Settings } from '../../src/settings/settings';

/**
 * A copy of a manager's store taken while it runs, to put back later as an operator restores a
 * backup: SQLite through its online backup API, a Postgres schema as a copy of its tables in a
 * schema beside it (put back under the original's constraints, foreign keys paused).
 */
export class StoreCopy {
  private constructor(
    private readonly settings: Settings,
    private readonly where: string,
  ) {}

  /** Takes the copy now. */
  static async take(settings: Settings, dir: string): Promise<StoreCopy> {
    const db = settings.database;
    if (db.type === 'sqlite') {
      const file = `${dir}/backup.db`;
      const source = new Database(db.path, { readonly: true, fileMustExist: true });
      try {
        await source.backup(file);
      } finally {
        source.close();
      }
      return new StoreCopy(settings, file);
    }
    const schema = requireSchema(db.schema);
    const backup = `${schema}_backup`;
    await withClient(db.url, async (client) => {
      await client.query(`CREATE SCHEMA "${backup}"`);
      for (const table of await tablesOf(client, schema)) {
        await client.query(`CREATE TABLE "${backup}"."${table}" AS TABLE "${schema}"."${table}"`);
      }
    });
    return new StoreCopy(settings, backup);
  }

  /** Puts the copy back over the store (its manager stopped). */
  async restore(): Promise<void> {
    const db = this.settings.database;
    if (db.type === 'sqlite') {
      for (const suffix of ['-wal', '-shm']) rmSync(`${db.path}${suffix}`, { force: true });
      copyFileSync(this.where, db.path);
      return;
    }
    const schema = requireSchema(db.schema);
    await withClient(db.url, async (client) => {
      const tables = await tablesOf(client, schema);
      await client.query('BEGIN');
      await client.query('SET LOCAL session_replication_role = replica');
      await client.query(`TRUNCATE ${tables.map((t) => `"${schema}"."${t}"`).join(', ')}`);
      for (const table of tables) {
        await client.query(
          `INSERT INTO "${schema}"."${table}" SELECT * FROM "${this.where}"."${table}"`,
        );
      }
      await client.query('COMMIT');
      await client.query(`DROP SCHEMA "${this.where}" CASCADE`);
    });
  }
}

function requireSchema(schema: string | undefined): string {
  if (!schema) throw new Error('the test store has no schema');
  return schema;
}

async function tablesOf(client: Client, schema: string): Promise<string[]> {
  const { rows } = await client.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY table_name`,
    [schema],
  );
  return rows.map((r) => r.table_name);
}

async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
