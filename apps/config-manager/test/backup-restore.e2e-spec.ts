import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { masterKeyFromBase64 } from '@app/crypto';
import { pause, type StoreKind, storeEnv, TEST_POSTGRES_URL, uniqueSchema } from '@app/testing';
import { Client } from 'pg';
import { SecretsService } from '../src/secrets/secrets.service';
import { startManager, type TestManager } from './support/test-app';

const REPO_ROOT = resolve(__dirname, '..', '..', '..');
const SERVICE = 'dedup-worker';

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `npm run <script>` as the operator does (node -r @swc-node/register on the cli/ source),
 * asynchronously, so the in-process manager keeps serving while it runs.
 */
function runCli(script: string, args: string[], env: Record<string, string>): Promise<CliResult> {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const [node, ...nodeArgs] = pkg.scripts[script].split(' ');
  return new Promise((done) => {
    execFile(
      node,
      [...nodeArgs, ...args],
      { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

/** A user error: a message and a non-zero exit, never a stack trace. */
function expectUserError(result: CliResult, message: string | RegExp): void {
  expect(result.code).not.toBe(0);
  expect(result.stderr).toMatch(message);
  expect(result.stderr).not.toMatch(/^\s+at /m);
}

const newKey = () => randomBytes(32).toString('base64');

/** A manager of the test's own on `env` (its store, keys and data dir). */
function managerOn(store: StoreKind, env: Record<string, string>): Promise<TestManager> {
  return startManager({ store, env });
}

/** Writes one version: a new max_distance_km, returning the version and the config. */
async function write(manager: TestManager, km: number): Promise<number> {
  const res = await manager.api.patchConfig(SERVICE, { geo: { max_distance_km: km } }).expect(200);
  return res.body.version;
}

async function kmOf(manager: TestManager): Promise<{ version: number; km: number }> {
  const { body } = await manager.api.config(SERVICE).expect(200);
  return { version: body.version, km: body.config.geo.max_distance_km };
}

describe.each<StoreKind>(['sqlite', 'postgres'])('npm run backup / restore (%s)', (store) => {
  let dir: string;
  let env: Record<string, string>;
  let manager: TestManager | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cm-backup-'));
    env = storeEnv(store, join(dir, 'data'));
  });

  afterEach(async () => {
    await manager?.close();
    manager = undefined;
    if (env.DATABASE_URL.startsWith('postgres')) {
      const schema = new URL(env.DATABASE_URL).searchParams.get('schema');
      const client = new Client({ connectionString: TEST_POSTGRES_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('backs up while the manager writes (one consistent version set, mode 0600) and restores those versions', async () => {
    const running = await managerOn(store, env);
    manager = running;
    const kmAt = new Map<number, number>();
    for (const km of [11, 12]) kmAt.set(await write(running, km), km); // v2, v3

    // Writes go on during the backup, one after another (paced under the API's rate limit).
    let writing = true;
    let km = 100;
    const writer = (async () => {
      while (writing) {
        km += 1;
        kmAt.set(await write(running, km), km);
        await pause(40);
      }
    })();
    const out = join(dir, 'backups', 'config.dump');
    const backup = await runCli('backup', ['--out', out], env);
    writing = false;
    await writer;
    expect(backup).toMatchObject({ code: 0 });
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dir, 'backups'))).toEqual(['config.dump']); // no temporary left
    const after = await write(manager, 999);

    if (store === 'sqlite') {
      // The file is a plain SQLite database: its current version and its history agree.
      const db = new Database(out, { readonly: true });
      const current = db
        .prepare('SELECT current_version AS v FROM services WHERE name = ?')
        .get(SERVICE) as { v: number };
      const versions = db
        .prepare('SELECT version FROM config_versions WHERE service = ? ORDER BY version')
        .all(SERVICE) as { version: number }[];
      db.close();
      expect(versions.map((v) => v.version)).toEqual(
        Array.from({ length: current.v }, (_, i) => i + 1),
      );
    }

    await manager.stop();
    const restore = await runCli('restore', [out], env);
    expect(restore).toMatchObject({ code: 0 });
    expect(restore.stderr).toContain('restored');

    manager = await managerOn(store, env);
    const { version, km: restoredKm } = await kmOf(manager);
    // The versions of the backup: at least v3, not the ones written after it, and each one's
    // content as it was written.
    const history = (await manager.api.versions(SERVICE, { limit: 500 }).expect(200)).body
      .filter((v) => (v.kind as string) !== 'restore') // the restore continuation's own version
      .map((v) => v.version)
      .sort((a, b) => a - b);
    const backedUp = history[history.length - 1];
    expect(backedUp).toBeGreaterThanOrEqual(3);
    expect(backedUp).toBeLessThan(after);
    expect(history).toEqual(Array.from({ length: backedUp }, (_, i) => i + 1));
    expect(restoredKm).toBe(kmAt.get(backedUp));
    expect(version).toBeGreaterThanOrEqual(backedUp);
  });

  it('keeps secrets only as ciphertext: the plaintext is nowhere in the backup, even decompressed', async () => {
    manager = await managerOn(store, env);
    const secret = `sk-backup-${randomBytes(12).toString('hex')}`;
    await manager.api.putSecret(SERVICE, 'ai.api_key', secret).expect(204);
    const out = join(dir, 'config.dump');
    expect(await runCli('backup', ['--out', out], env)).toMatchObject({ code: 0 });

    const raw = readFileSync(out);
    expect(raw.includes(secret)).toBe(false);
    expect(raw.includes(Buffer.from(secret).toString('base64'))).toBe(false);
    if (store === 'postgres') {
      // pg_dump's custom format compresses: look at the decompressed content (the SQL it holds).
      const sql = execFileSync('pg_restore', ['-f', '-', out], {
        maxBuffer: 64 << 20,
        encoding: 'utf8',
      });
      expect(sql).toContain('ai.api_key'); // the check does read the stored rows
      expect(sql).not.toContain(secret);
      expect(sql).not.toContain(Buffer.from(secret).toString('base64'));
    } else {
      expect(raw.includes('ai.api_key')).toBe(true);
    }
  });

  it('restores a backup taken under the previous master key: it opens with CONFIG_MASTER_KEYS_PREVIOUS after a rotation', async () => {
    const oldKey = newKey();
    env.CONFIG_MASTER_KEY = oldKey;
    manager = await managerOn(store, env);
    await manager.api.putSecret(SERVICE, 'ai.api_key', 'sk-old-key').expect(204);
    const out = join(dir, 'old-key.dump');
    expect(await runCli('backup', ['--out', out], env)).toMatchObject({ code: 0 });
    await manager.stop();

    // Rotation: every secret re-encrypted under the new key, the old key retired.
    const currentKey = newKey();
    const rotating = { ...env, CONFIG_MASTER_KEY: currentKey, CONFIG_MASTER_KEYS_PREVIOUS: oldKey };
    manager = await managerOn(store, rotating);
    await manager.app.get(SecretsService).rotateAll();
    await manager.stop();
    manager = undefined;

    const rotated = { ...env, CONFIG_MASTER_KEY: currentKey };
    expect(await runCli('restore', [out], rotated)).toMatchObject({ code: 0 });
    // Under the new key alone, the restored secrets do not open: the manager names the old key.
    await expect(managerOn(store, rotated)).rejects.toThrow(masterKeyFromBase64(oldKey).id);
    // With the old key as a previous one they do: the same value again is no new version.
    manager = await managerOn(store, rotating);
    const before = (await manager.api.config(SERVICE).expect(200)).body.version;
    const same = await manager.api.putSecret(SERVICE, 'ai.api_key', 'sk-old-key').expect(204);
    expect(same.headers.etag).toBe(`"${before}"`);
  });

  it('refuses to restore while a manager runs on the store, and changes nothing', async () => {
    manager = await managerOn(store, env);
    const out = join(dir, 'config.dump');
    expect(await runCli('backup', ['--out', out], env)).toMatchObject({ code: 0 });
    const version = await write(manager, 42);

    const restore = await runCli('restore', [out], env);

    expectUserError(restore, /in use.*stop the manager first/);
    expect(restore.stderr).toContain('DATABASE_URL=');
    expect(await kmOf(manager)).toEqual({ version, km: 42 });
  });

  it('refuses a backup of the other store kind, naming DATABASE_URL', async () => {
    manager = await managerOn(store, env);
    const out = join(dir, 'config.dump');
    expect(await runCli('backup', ['--out', out], env)).toMatchObject({ code: 0 });
    await manager.stop();
    const other = storeEnv(store === 'sqlite' ? 'postgres' : 'sqlite', join(dir, 'other'));

    const restore = await runCli('restore', [out], {
      ...other,
      CONFIG_MASTER_KEY: env.CONFIG_MASTER_KEY,
    });

    expectUserError(
      restore,
      store === 'sqlite'
        ? /is a SQLite backup, but DATABASE_URL=postgres:.*is a Postgres store/
        : /is a Postgres \(pg_dump\) backup, but DATABASE_URL=sqlite:.*is a SQLite store/,
    );
  });
});

describe('npm run backup / restore: operator mistakes', () => {
  let dir: string;
  let env: Record<string, string>;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cm-backup-usage-'));
    env = storeEnv('sqlite', join(dir, 'data'));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('--help prints the usage and exits 0', async () => {
    for (const script of ['backup', 'restore']) {
      const result = await runCli(script, ['--help'], env);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`Usage: npm run ${script}`);
    }
  });

  it('backup without --out: usage, exit 2', async () => {
    const result = await runCli('backup', [], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--out FILE is required');
  });

  it('backup of a store that does not exist names DATABASE_URL and writes nothing', async () => {
    const out = join(dir, 'none.dump');
    const result = await runCli('backup', ['--out', out], env);
    expectUserError(result, /No store at DATABASE_URL=sqlite:.*config\.db/);
    expect(existsSync(out)).toBe(false);
  });

  it('restore of a missing, an unreadable or a foreign file says which', async () => {
    expectUserError(await runCli('restore', [], env), /FILE is required/);
    expectUserError(
      await runCli('restore', [join(dir, 'nope.dump')], env),
      /Cannot read .*nope\.dump/,
    );
    const foreign = join(dir, 'notes.txt');
    writeFileSync(foreign, 'hello');
    expectUserError(await runCli('restore', [foreign], env), /is not a config-manager backup/);
    const otherDb = join(dir, 'other.db');
    new Database(otherDb).exec('CREATE TABLE t (x)').close();
    expectUserError(
      await runCli('restore', [otherDb], env),
      /other\.db is not a config-manager store \(no services table\)/,
    );
  });

  it('a Postgres backup without pg_dump on the PATH says what to install', async () => {
    // A PATH with node alone.
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    const pgEnv = { ...storeEnv('postgres', join(dir, 'pg')), PATH: bin };
    const result = await runCli('backup', ['--out', join(dir, 'pg.dump')], pgEnv);
    expectUserError(result, /pg_dump is not on the PATH: install the Postgres client tools/);
  });

  it('a Postgres dump restores only into the schema it was taken from', async () => {
    const source = storeEnv('postgres', join(dir, 'pg-source'));
    const manager = await managerOn('postgres', source);
    const out = join(dir, 'schema.dump');
    try {
      expect(await runCli('backup', ['--out', out], source)).toMatchObject({ code: 0 });
    } finally {
      await manager.close();
    }
    const schema = uniqueSchema();
    const result = await runCli('restore', [out], {
      ...source,
      DATABASE_URL: `${TEST_POSTGRES_URL}?schema=${schema}`,
    });
    expectUserError(
      result,
      new RegExp(`holds schema cm_\\w+, but DATABASE_URL=.*is schema ${schema}`),
    );
  });
});
