import { Logger } from '@nestjs/common';
import { dirname } from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import {
  createPrivateFile,
  ensurePrivateDirectory,
  tightenFileMode,
} from '../common/private-files';
import type { DatabaseSettings } from '../settings/settings';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migration-list';
import { postgresApplicationName } from './postgres-application-name';

const logger = new Logger('SqliteStore');

/** How long a write waits for a locked SQLite file before failing (ms). */
const SQLITE_BUSY_TIMEOUT_MS = 5000;

/**
 * TypeORM options for either store. Migrations always run at start; `synchronize` is never on,
 * so the schema only changes through reviewed migrations.
 */
export function dataSourceOptions(db: DatabaseSettings): DataSourceOptions {
  const common = {
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsRun: true,
    migrationsTransactionMode: 'each' as const,
    synchronize: false,
    logging: false,
  };
  if (db.type === 'sqlite') {
    if (db.path !== ':memory:') prepareSqliteFile(db.path);
    return {
      ...common,
      type: 'better-sqlite3',
      database: db.path,
      timeout: SQLITE_BUSY_TIMEOUT_MS,
      prepareDatabase: (raw: { pragma(statement: string): unknown }) => {
        raw.pragma('journal_mode = WAL');
        raw.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
        raw.pragma('synchronous = NORMAL');
        raw.pragma('foreign_keys = ON');
      },
    };
  }
  return {
    ...common,
    type: 'postgres',
    url: db.url,
    schema: db.schema,
    // Fail fast when Postgres is gone so the manager can answer 503 instead of hanging.
    connectTimeoutMS: 3000,
    extra: {
      max: 10,
      connectionTimeoutMillis: 3000,
      query_timeout: 10000,
      application_name: postgresApplicationName(db),
    },
  };
}

/**
 * The SQLite store readable by the manager's user only: its directory is created 0700 and the
 * database file 0600 before better-sqlite3 opens it (SQLite opens an empty file as a new
 * database, and gives its -wal and -shm files the database file's mode). Files left looser by
 * an earlier version are tightened, with a warning.
 */
function prepareSqliteFile(path: string): void {
  ensurePrivateDirectory(dirname(path));
  if (createPrivateFile(path)) return;
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    const was = tightenFileMode(file);
    if (was !== undefined) {
      logger.warn(
        `Tightened ${file} from mode ${was.toString(8).padStart(4, '0')} to 0600: other users could read the config store`,
      );
    }
  }
}

/**
 * Connects to Postgres once (so an unreachable database is found before TypeORM retries) and
 * creates the schema named in DATABASE_URL (`?schema=`) before migrations need it.
 */
export async function ensurePostgresSchema(db: DatabaseSettings): Promise<void> {
  if (db.type !== 'postgres') return;
  // Loaded only for Postgres: a SQLite manager never needs pg (~40 ms of its start, issue 18).
  const { Client } = await import('pg');
  const client = new Client({ connectionString: db.url, connectionTimeoutMillis: 3000 });
  // A failed connect leaves an 'error' listener-less client behind; the error is the rejection.
  client.on('error', () => undefined);
  await client.connect();
  try {
    if (db.schema) await client.query(`CREATE SCHEMA IF NOT EXISTS "${db.schema}"`);
  } finally {
    await client.end();
  }
}
