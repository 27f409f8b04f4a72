// The manager's store as one file and back: SQLite through its online backup API, Postgres
// through pg_dump's custom format. Used by `npm run backup` and `npm run restore` (cli/).
import { spawn } from 'node:child_process';
import { closeSync, openSync, readSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import {
  createPrivateFile,
  ensurePrivateDirectory,
  PRIVATE_FILE_MODE,
} from '../common/private-files';
import { postgresApplicationName } from '../database/postgres-application-name';
import type { DatabaseSettings } from '../settings/settings';
import { CliUserError } from './cli-command';

/** What a backup file holds, told by its first bytes. */
export type BackupFormat = 'sqlite' | 'postgres';

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');
const PG_CUSTOM_MAGIC = Buffer.from('PGDMP', 'latin1');

/** The table every config-manager store has (a file without it is some other database). */
const STORE_TABLE = 'services';

/**
 * Reads the format of a backup file from its magic bytes (SQLite's header, pg_dump's `PGDMP`);
 * throws naming the file when it is unreadable or neither.
 */
export function backupFormatOf(file: string): BackupFormat {
  const head = Buffer.alloc(16);
  let read: number;
  try {
    if (!statSync(file).isFile()) throw new CliUserError(`${file} is not a file`);
    const fd = openSync(file, 'r');
    try {
      read = readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    if (error instanceof CliUserError) throw error;
    throw new CliUserError(`Cannot read ${file}: ${(error as Error).message}`);
  }
  if (read >= SQLITE_MAGIC.length && head.subarray(0, SQLITE_MAGIC.length).equals(SQLITE_MAGIC)) {
    return 'sqlite';
  }
  if (read >= PG_CUSTOM_MAGIC.length && head.subarray(0, 5).equals(PG_CUSTOM_MAGIC)) {
    return 'postgres';
  }
  throw new CliUserError(
    `${file} is not a config-manager backup: neither a SQLite database nor a pg_dump custom-format dump`,
  );
}

/** How DATABASE_URL is shown in messages: the store kind and where, never the password. */
export function describeStore(db: DatabaseSettings): string {
  if (db.type === 'sqlite') return `DATABASE_URL=sqlite:${db.path}`;
  const url = new URL(db.url);
  url.password = '';
  if (db.schema) url.searchParams.set('schema', db.schema);
  return `DATABASE_URL=${url.toString()}`;
}

/**
 * Writes `out` through a private temporary file next to it (mode 0600 from the start), renamed
 * over `out` only once complete, so a failed backup never leaves a half-written file there.
 */
async function writeAtomically(out: string, write: (tmp: string) => Promise<void>): Promise<void> {
  const dir = dirname(out);
  try {
    ensurePrivateDirectory(dir);
  } catch (error) {
    throw new CliUserError(`Cannot create ${dir}: ${(error as Error).message}`);
  }
  const tmp = join(dir, `.${basename(out)}.${process.pid}.partial`);
  rmSync(tmp, { force: true });
  try {
    createPrivateFile(tmp);
  } catch (error) {
    throw new CliUserError(`Cannot write ${out}: ${(error as Error).message}`);
  }
  try {
    await write(tmp);
    renameSync(tmp, out);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** The file mode of backups: they hold the master-key ciphertext of every secret. */
export const BACKUP_FILE_MODE = PRIVATE_FILE_MODE;

/** One store kind's backup and restore. */
export interface StoreBackup {
  /** Writes a consistent copy of the store to `out` (mode 0600) while the manager may run. */
  backup(out: string): Promise<void>;
  /** Replaces the store's content with the backup in `file`; refuses while a manager uses it. */
  restore(file: string): Promise<void>;
}

/** The backup of the store DATABASE_URL names. */
export function storeBackupFor(db: DatabaseSettings): StoreBackup {
  return db.type === 'sqlite' ? new SqliteStoreBackup(db.path) : new PostgresStoreBackup(db);
}

/** SQLite: the online backup API (consistent while the manager writes, in WAL mode). */
export class SqliteStoreBackup implements StoreBackup {
  constructor(private readonly path: string) {}

  async backup(out: string): Promise<void> {
    if (this.path === ':memory:') {
      throw new CliUserError('DATABASE_URL=sqlite::memory: has nothing to back up');
    }
    const source = this.open(this.path, `No store at DATABASE_URL=sqlite:${this.path}`);
    try {
      this.requireStore(source, `DATABASE_URL=sqlite:${this.path}`);
      await writeAtomically(out, async (tmp) => {
        // All remaining pages per step: a step copies under one read transaction, so a write of
        // the running manager between steps restarts the copy rather than mixing two states.
        await source.backup(tmp, { progress: ({ remainingPages }) => Math.max(remainingPages, 1) });
        // One self-contained file (no -wal beside it), readable by any SQLite.
        const copy = new Database(tmp, { fileMustExist: true });
        try {
          copy.pragma('journal_mode = DELETE');
        } finally {
          copy.close();
        }
      });
    } finally {
      source.close();
    }
  }

  async restore(file: string): Promise<void> {
    if (this.path === ':memory:') {
      throw new CliUserError('DATABASE_URL=sqlite::memory: cannot be restored into');
    }
    const source = this.open(file, `Cannot open ${file}`, { readonly: true });
    try {
      this.requireStore(source, file);
      const check = source.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new CliUserError(`${file} is damaged: ${String(check)}`);
      this.refuseWhileInUse();
      ensurePrivateDirectory(dirname(this.path));
      createPrivateFile(this.path);
      // The backup API into the store's own file: its journal (WAL) stays consistent, unlike a
      // copy over it.
      await source.backup(this.path);
    } finally {
      source.close();
    }
  }

  /** A manager holds the file open (a shared lock in WAL mode): an exclusive lock fails then. */
  private refuseWhileInUse(): void {
    let target: Database.Database;
    try {
      target = new Database(this.path, { fileMustExist: true, timeout: 0 });
    } catch {
      return; // no store yet: nobody uses it
    }
    try {
      target.pragma('locking_mode = EXCLUSIVE');
      target.exec('BEGIN EXCLUSIVE');
      target.prepare('SELECT count(*) FROM sqlite_master').get();
      target.exec('COMMIT');
    } catch (error) {
      if ((error as { code?: string }).code === 'SQLITE_BUSY') {
        throw new CliUserError(
          `DATABASE_URL=sqlite:${this.path} is in use (a config-manager is running on it): stop the manager first`,
        );
      }
      throw error;
    } finally {
      target.close();
    }
  }

  private open(path: string, what: string, options: Database.Options = {}): Database.Database {
    try {
      return new Database(path, { ...options, fileMustExist: true, timeout: 5000 });
    } catch (error) {
      throw new CliUserError(`${what}: ${(error as Error).message}`);
    }
  }

  private requireStore(db: Database.Database, what: string): void {
    let found: unknown;
    try {
      found = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?")
        .get(STORE_TABLE);
    } catch (error) {
      throw new CliUserError(`${what} is not a SQLite database: ${(error as Error).message}`);
    }
    if (!found) {
      throw new CliUserError(`${what} is not a config-manager store (no ${STORE_TABLE} table)`);
    }
  }
}

/** Postgres: pg_dump / pg_restore of the manager's schema (custom format), on the PATH. */
export class PostgresStoreBackup implements StoreBackup {
  private readonly schema: string;

  constructor(private readonly db: Extract<DatabaseSettings, { type: 'postgres' }>) {
    this.schema = db.schema ?? 'public';
  }

  async backup(out: string): Promise<void> {
    await writeAtomically(out, async (tmp) => {
      await this.run('pg_dump', [
        '-d',
        this.connectionUrl(),
        '-Fc',
        '-n',
        this.schema,
        '--no-owner',
        '-f',
        tmp,
      ]);
    });
    if (!(await this.dumpSchemas(out)).has(this.schema)) {
      rmSync(out, { force: true });
      throw new CliUserError(
        `${describeStore(this.db)} has no tables in schema ${this.schema}: nothing to back up`,
      );
    }
  }

  async restore(file: string): Promise<void> {
    const schemas = await this.dumpSchemas(file);
    if (schemas.size !== 1 || !schemas.has(this.schema)) {
      const held = [...schemas].join(', ') || 'no tables';
      throw new CliUserError(
        `${file} holds schema ${held}, but ${describeStore(this.db)} is schema ${this.schema}: ` +
          `restore it with the DATABASE_URL (?schema=) it was taken from`,
      );
    }
    await this.refuseWhileInUse();
    await this.run('pg_restore', [
      '--clean',
      '--if-exists',
      '--no-owner',
      '--single-transaction',
      '--exit-on-error',
      '-d',
      this.connectionUrl(),
      file,
    ]);
  }

  /** The schemas the dump's tables are in (from its table of contents, `pg_restore -l`). */
  private async dumpSchemas(file: string): Promise<Set<string>> {
    const toc = await this.run('pg_restore', ['-l', file]);
    const schemas = new Set<string>();
    for (const line of toc.split('\n')) {
      // `215; 1259 16390 TABLE <schema> <name> <owner>`
      const match = /^\d+; \d+ \d+ TABLE (?!DATA )(\S+) \S+/.exec(line);
      if (match) schemas.add(match[1]);
    }
    return schemas;
  }

  /** Connections of a config-manager on this schema (its application_name) refuse a restore. */
  private async refuseWhileInUse(): Promise<void> {
    const client = new Client({ connectionString: this.db.url, connectionTimeoutMillis: 5000 });
    try {
      await client.connect();
    } catch (error) {
      throw new CliUserError(
        `Cannot connect to ${describeStore(this.db)}: ${(error as Error).message}`,
      );
    }
    try {
      const { rows } = await client.query<{ n: string }>(
        `SELECT count(*) AS n FROM pg_stat_activity
          WHERE datname = current_database() AND application_name = $1 AND pid <> pg_backend_pid()`,
        [postgresApplicationName(this.db)],
      );
      const connected = Number(rows[0].n);
      if (connected > 0) {
        throw new CliUserError(
          `${describeStore(this.db)} is in use: ${connected} connection(s) of a config-manager on ` +
            `schema ${this.schema}; stop the manager first`,
        );
      }
    } finally {
      await client.end();
    }
  }

  /** DATABASE_URL without its password, which goes through PGPASSWORD (not the command line). */
  private connectionUrl(): string {
    const url = new URL(this.db.url);
    url.password = '';
    return url.toString();
  }

  /** Runs a Postgres client tool; its stderr becomes the message when it fails. */
  private run(tool: string, args: string[]): Promise<string> {
    const password = decodeURIComponent(new URL(this.db.url).password);
    return new Promise((resolve, reject) => {
      const child = spawn(tool, args, {
        env: { ...process.env, ...(password ? { PGPASSWORD: password } : {}) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
      child.on('error', (error: NodeJS.ErrnoException) => {
        reject(
          error.code === 'ENOENT'
            ? new CliUserError(
                `${tool} is not on the PATH: install the Postgres client tools of the server's ` +
                  `major version (postgresql-client), or run the command in the config-manager image`,
              )
            : error,
        );
      });
      child.on('close', (code) => {
        if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
        else {
          const message = Buffer.concat(err).toString('utf8').trim();
          reject(new CliUserError(`${tool} failed (exit ${code}): ${message}`));
        }
      });
    });
  }
}
