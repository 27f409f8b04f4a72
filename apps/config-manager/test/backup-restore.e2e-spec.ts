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
import { formatKeyList, generateBoxKeyPair, masterKeyFromBase64 } from '@app/crypto';
import {
  pause,
  startAedes,
  type StoreKind,
  storeEnv,
  TEST_POSTGRES_URL,
  uniqueSchema,
  until,
  waitForInstance,
  WorkerProcess,
} from '@app/testing';
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

describe('ops/backup-loop.sh (the compose backup service)', () => {
  let dir: string;
  let env: Record<string, string>;
  let manager: TestManager;
  let backups: string;

  /** One round of the loop (`--once`) with the repository's backup command from source. */
  const loopOnce = (extra: Record<string, string>): Promise<CliResult> =>
    new Promise((done) => {
      execFile(
        'bash',
        [join(REPO_ROOT, 'ops/backup-loop.sh'), '--once'],
        {
          cwd: REPO_ROOT,
          env: {
            PATH: process.env.PATH ?? '/usr/bin:/bin',
            ...env,
            BACKUP_DIR: backups,
            BACKUP_COMMAND: 'node -r @swc-node/register apps/config-manager/src/cli/backup.ts',
            ...extra,
          },
        },
        (error, stdout, stderr) =>
          done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
    });

  const dated = () =>
    readdirSync(backups)
      .filter((f) => /^config-\d{8}T\d{6}Z\.dump$/.test(f))
      .sort();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cm-backup-loop-'));
    env = storeEnv('sqlite', join(dir, 'data'));
    manager = await managerOn('sqlite', env);
    await write(manager, 33);
  });

  afterAll(async () => {
    await manager.close();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    backups = join(dir, `backups-${randomBytes(3).toString('hex')}`);
    mkdirSync(backups);
    // Eight older dated dumps, and files of the operator's that are not the loop's.
    for (let day = 1; day <= 8; day++) {
      writeFileSync(
        join(backups, `config-202601${String(day).padStart(2, '0')}T030000Z.dump`),
        'old',
      );
    }
    writeFileSync(join(backups, 'config-before-upgrade.dump'), 'mine');
    writeFileSync(join(backups, 'notes.txt'), 'mine');
  });

  it('writes a dated backup and keeps the newest BACKUP_KEEP, leaving other files alone', async () => {
    const result = await loopOnce({ BACKUP_KEEP: '3' });

    expect(result).toMatchObject({ code: 0 });
    const kept = dated();
    expect(kept).toHaveLength(3);
    expect(kept.slice(0, 2)).toEqual([
      'config-20260107T030000Z.dump',
      'config-20260108T030000Z.dump',
    ]);
    const stamp = new Date().toISOString().slice(0, 10).replace(/-/g, '');
    expect(kept[2]).toMatch(new RegExp(`^config-${stamp}T\\d{6}Z\\.dump$`));
    // The new one is a real backup of the store, private.
    const fresh = join(backups, kept[2]);
    expect(statSync(fresh).mode & 0o777).toBe(0o600);
    const db = new Database(fresh, { readonly: true });
    expect(
      db.prepare('SELECT current_version AS v FROM services WHERE name = ?').get(SERVICE),
    ).toEqual({ v: 2 });
    db.close();
    expect(readdirSync(backups)).toEqual(
      expect.arrayContaining(['config-before-upgrade.dump', 'notes.txt']),
    );
    expect(result.stderr).toContain('deleted config-20260106T030000Z.dump');
  });

  it('deletes nothing when the backup fails', async () => {
    const before = readdirSync(backups).sort();

    const result = await loopOnce({
      BACKUP_KEEP: '1',
      DATABASE_URL: `sqlite:${join(dir, 'gone.db')}`,
    });

    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('backup failed; older backups kept');
    expect(readdirSync(backups).sort()).toEqual(before);
  });

  it('refuses a BACKUP_KEEP or BACKUP_INTERVAL_SECONDS that is not a positive integer, naming it', async () => {
    const keep = await loopOnce({ BACKUP_KEEP: '0' });
    expect(keep.code).toBe(2);
    expect(keep.stderr).toContain('BACKUP_KEEP must be a positive integer');
    const interval = await loopOnce({ BACKUP_INTERVAL_SECONDS: '1d' });
    expect(interval.code).toBe(2);
    expect(interval.stderr).toContain('BACKUP_INTERVAL_SECONDS must be a positive integer');
    expect(dated()).toHaveLength(8);
  });
});

/**
 * The restore that strands nobody (docs/recovery.md, "Backups and restores that strand nobody"):
 * after `npm run restore` the store is behind what the workers applied; the manager writes a
 * `restore` version above it, which every worker accepts.
 */
describe('a restore with real workers running', () => {
  it('backup at v3, writes to v6, restore, start the manager: every worker ends on the restored content at v7', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cm-restore-workers-'));
    const broker = await startAedes(); // outlives the manager: its retained v6 stays
    const recipient = generateBoxKeyPair();
    const env = {
      ...storeEnv('sqlite', join(dir, 'data')),
      MQTT_URL: broker.url,
      SERVICE_RECIPIENT_KEYS: formatKeyList([{ id: SERVICE, key: recipient.publicKey }]),
    };
    let manager: TestManager | undefined = await managerOn('sqlite', env);
    const workers: WorkerProcess[] = [];
    try {
      for (const id of ['w-1', 'w-2']) {
        const home = join(dir, id);
        mkdirSync(join(home, 'inbox'), { recursive: true });
        const workerEnv = await manager.api.workerEnv({
          service: SERVICE,
          instanceId: id,
          dataDir: home,
          secretKey: recipient.secretKey,
        });
        workers.push(
          WorkerProcess.start({
            ...workerEnv,
            INPUT_DIR: join(home, 'inbox'),
            OUTPUT_DIR: join(home, 'outbox'),
          }),
        );
      }
      await write(manager, 21); // v2
      expect(await write(manager, 22)).toBe(3);
      const out = join(dir, 'v3.dump');
      expect(await runCli('backup', ['--out', out], env)).toMatchObject({ code: 0 });
      for (const km of [23, 24, 25]) await write(manager, km); // v4..v6
      for (const id of ['w-1', 'w-2']) {
        await waitForInstance(manager, (i) => i.appliedVersion === 6, {
          instanceId: id,
          timeoutMs: 20000,
        });
      }
      await manager.stop();
      manager = undefined;

      expect(await runCli('restore', [out], env)).toMatchObject({ code: 0 });
      manager = await managerOn('sqlite', env);

      // The restore check may run once the retained v6 arrives: wait for the version it writes.
      const restarted = manager;
      const current = await until(
        'the restore version 7',
        async () => {
          const { body } = await restarted.api.config(SERVICE).expect(200);
          return body.version >= 7 ? body : undefined;
        },
        { timeoutMs: 20000 },
      );
      expect(current).toMatchObject({ version: 7, config: { geo: { max_distance_km: 22 } } });
      const v7 = (await manager.api.versions(SERVICE, { limit: 1 }).expect(200)).body[0];
      expect(v7).toMatchObject({ version: 7, kind: 'restore', createdBy: 'system' });
      for (const [i, id] of ['w-1', 'w-2'].entries()) {
        await waitForInstance(manager, (w) => w.appliedVersion === 7, {
          instanceId: id,
          timeoutMs: 20000,
        });
        await workers[i].waitForLine(/Accepted dedup-worker config version 7;/);
      }
    } finally {
      await Promise.all(workers.map((w) => w.kill('SIGTERM')));
      await manager?.close();
      await broker.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120000);
});
