import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import { CapturedPinoLog, storeEnv, StoreKind } from '@app/testing';
import { ConfigReadsService } from '../src/configs/config-reads.service';
import { createApp } from '../src/create-app';
import { loadSettings } from '../src/settings/settings';
import { startManager, TestManager } from './support/test-app';

const MIGRATION_NAMES = [
  'InitialSchema1763769600000',
  'PublicationOutbox1763856000000',
  'Instances1763942400000',
  'InstanceOfflineSince1764806400000',
  'SecretCiphertext1764892800000',
  'ServiceRegistry1764979200000',
  'InstanceLabelsRuns1765065600000',
  'StagedVersions1765152000000',
  'Rollouts1765238400000',
  'InstanceFreshness1765328400000',
  'SecretVersionBinding1765332000000',
  'CompactHistory1765418400000',
];

async function migrationsRun(manager: TestManager): Promise<string[]> {
  const db = manager.settings.database;
  if (db.type === 'sqlite') {
    const raw = new Database(db.path, { readonly: true });
    try {
      return (
        raw.prepare('SELECT name FROM migrations ORDER BY id').all() as Array<{ name: string }>
      ).map((r) => r.name);
    } finally {
      raw.close();
    }
  }
  const client = new Client({ connectionString: db.url });
  await client.connect();
  try {
    const rows = await client.query<{ name: string }>(
      `SELECT name FROM "${db.schema}".migrations ORDER BY id`,
    );
    return rows.rows.map((r) => r.name);
  } finally {
    await client.end();
  }
}

describe.each<StoreKind>(['sqlite', 'postgres'])('store lifecycle on %s', (store) => {
  let sut: TestManager | undefined;

  afterEach(async () => {
    await sut?.close();
    sut = undefined;
  });

  it('migrates a fresh store; a second start is a no-op that keeps every version', async () => {
    const first = await startManager({ store });
    sut = first;
    expect(await migrationsRun(first)).toEqual(MIGRATION_NAMES);
    await first.api.patchConfig('dedup-worker', { thresholds: { high: 0.8 } }).expect(200);
    await first.stop();

    sut = await startManager({ store, reuse: first });

    expect(await migrationsRun(sut)).toEqual(MIGRATION_NAMES);
    const config = await sut.api.config('dedup-worker').expect(200);
    expect(config.body).toMatchObject({ version: 2, config: { thresholds: { high: 0.8 } } });
    expect(sut.logs.text()).not.toContain('Registered dedup-worker');
  });
});

describe('layered defaults', () => {
  let dataDir: string;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'cm-defaults-'));
    mkdirSync(join(dataDir, 'defaults'));
  });

  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  const env = (extra: Record<string, string> = {}) => ({
    ...storeEnv('sqlite', dataDir),
    ...extra,
  });

  it('builds version 1 from schema defaults, then <service>.yaml, then <service>.<APP_ENV>.yaml', async () => {
    writeFileSync(
      join(dataDir, 'defaults', 'dedup-worker.yaml'),
      'thresholds:\n  high: 0.8\ngeo:\n  max_distance_km: 20\n',
    );
    writeFileSync(
      join(dataDir, 'defaults', 'dedup-worker.staging.yaml'),
      'geo:\n  max_distance_km: 5\n',
    );
    const logs = new CapturedPinoLog();
    const app = await createApp(loadSettings(env({ APP_ENV: 'staging' })), {
      logDestination: logs,
    });
    try {
      const state = app.get(ConfigReadsService).current('dedup-worker');
      expect(state.version).toBe(1);
      expect(state.config).toMatchObject({
        thresholds: { high: 0.8, low: 0.35 },
        geo: { max_distance_km: 5, min_confidence: 0.85 },
      });
      expect(logs.text()).toContain('dedup-worker.staging.yaml');
    } finally {
      await app.close();
    }
  });

  it.each([
    ['an invalid value', 'thresholds:\n  high: 1.7\n', /dedup-worker\.yaml[\s\S]*thresholds\.high/],
    ['an unknown field', 'geo:\n  radius: 3\n', /dedup-worker\.yaml[\s\S]*geo\.radius/],
    ['broken YAML', 'thresholds: [\n', /dedup-worker\.yaml[\s\S]*YAML syntax at line/],
  ])(
    'refuses to start on a defaults file with %s, naming file and field',
    async (_, yaml, message) => {
      writeFileSync(join(dataDir, 'defaults', 'dedup-worker.yaml'), yaml);
      await expect(
        createApp(loadSettings(env()), { logDestination: new CapturedPinoLog() }),
      ).rejects.toThrow(message);
    },
  );
});

describe('file modes of a SQLite store', () => {
  let parent: string;

  beforeEach(() => {
    parent = mkdtempSync(join(tmpdir(), 'cm-modes-'));
  });

  afterEach(() => rmSync(parent, { recursive: true, force: true }));

  const modeOf = (path: string) => (statSync(path).mode & 0o777).toString(8);

  it('creates a fresh DATA_DIR 0700 and the database with its -wal and -shm files 0600', async () => {
    const dataDir = join(parent, 'data');
    const storeDir = join(parent, 'store', 'sqlite');
    const sut = await startManager({
      store: 'sqlite',
      env: { DATA_DIR: dataDir, DATABASE_URL: `sqlite:${join(storeDir, 'config.db')}` },
    });
    try {
      await sut.api.patchConfig('dedup-worker', { thresholds: { high: 0.8 } }).expect(200);

      expect(modeOf(dataDir)).toBe('700');
      expect(modeOf(join(dataDir, 'dev-keys.json'))).toBe('600');
      expect([modeOf(join(parent, 'store')), modeOf(storeDir)]).toEqual(['700', '700']);
      // While the store is open: SQLite deletes the -wal and -shm files when it closes.
      const files = ['config.db', 'config.db-wal', 'config.db-shm'];
      expect(files.map((file) => modeOf(join(storeDir, file)))).toEqual(['600', '600', '600']);
    } finally {
      await sut.close();
    }
  });

  it('tightens a database file others could read, and says so', async () => {
    const dataDir = join(parent, 'data');
    const database = join(dataDir, 'config.db');
    const env = { DATA_DIR: dataDir, DATABASE_URL: `sqlite:${database}` };
    const first = await startManager({ store: 'sqlite', env });
    await first.stop();
    chmodSync(database, 0o644);

    const second = await startManager({ store: 'sqlite', reuse: first });
    try {
      expect(modeOf(database)).toBe('600');
      expect(second.logs.text()).toContain(
        `Tightened ${database} from mode 0644 to 0600: other users could read the config store`,
      );
    } finally {
      await second.close();
    }
  });
});

describe('DATA_DIR alone', () => {
  let parent: string;

  beforeEach(() => {
    parent = mkdtempSync(join(tmpdir(), 'cm-data-dir-'));
  });

  afterEach(() => rmSync(parent, { recursive: true, force: true }));

  it('keeps all state in DATA_DIR: the SQLite store, the development keys and the admin token', async () => {
    const dataDir = join(parent, 'var', 'lib', 'cfg');
    // Blank is unset: no DATABASE_URL, no API_TOKENS, so every default applies.
    const sut = await startManager({
      store: 'sqlite',
      env: { DATA_DIR: dataDir, DATABASE_URL: '', API_TOKENS: '', CONFIG_MASTER_KEY: '' },
    });
    try {
      expect(sut.settings.database).toEqual({ type: 'sqlite', path: join(dataDir, 'config.db') });
      expect(statSync(join(dataDir, 'config.db')).isFile()).toBe(true);
      expect(statSync(join(dataDir, 'dev-keys.json')).isFile()).toBe(true);
      expect(statSync(join(dataDir, 'admin-token')).isFile()).toBe(true);
    } finally {
      await sut.close();
    }
  });
});
