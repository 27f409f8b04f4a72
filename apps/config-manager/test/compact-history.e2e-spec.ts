import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { defaultConfig, findServiceDefinition } from '@app/contracts';
import { storeEnv, type StoreKind } from '@app/testing';
import { DataSource } from 'typeorm';
import { encodeSnapshot, snapshotBytes } from '../src/configs/snapshot-codec';
import { dataSourceOptions } from '../src/database/database-options';
import { MIGRATIONS } from '../src/database/migration-list';
import { loadSettings } from '../src/settings/settings';
import { startManager, type TestManager } from './support/test-app';

const SERVICE = 'dedup-worker';
const definition = findServiceDefinition(SERVICE)!;
const HASH = definition.schemaHash;
const secrets = { 'ai.api_key': { set: false, updatedAt: null } };
const v1 = { config: defaultConfig(definition), secrets };
const v2 = { config: { ...v1.config, thresholds: { high: 0.8, low: 0.35 } }, secrets };
const v3 = {
  config: { ...v2.config, cluster: { max_cluster_size: 9, min_internal_similarity: 0.4 } },
  secrets,
};
const v4 = { config: { ...v3.config, thresholds: { high: 0.9, low: 0.35 } }, secrets };
const at = (n: number) => `2026-12-0${n}T10:00:00.000Z`;

/** Rows as the manager before issue 18 wrote them: hashes on every version, full audit rows. */
function previousRows(): Record<string, Record<string, unknown>[]> {
  const first = encodeSnapshot(v1);
  const dictionary = snapshotBytes(first, () => Buffer.alloc(0));
  const version = (n: number, fields: Record<string, unknown>) => ({
    service: SERVICE,
    version: n,
    kind: 'update',
    state: 'published',
    created_at: at(n),
    created_by: 'alice',
    reason: null,
    schema_hash: HASH,
    ...fields,
  });
  const audit = (n: number, fields: Record<string, unknown>) => ({
    at: at(n),
    actor: 'alice',
    service: SERVICE,
    kind: 'update',
    version_before: n - 1,
    version_after: n,
    reason: null,
    ...fields,
  });
  return {
    services: [
      {
        name: SERVICE,
        current_version: 3,
        last_version: 4,
        updated_at: at(3),
        updated_by: 'alice',
        description: definition.description,
        schema_version: 1,
        origin: 'code',
      },
    ],
    service_schemas: [
      {
        service: SERVICE,
        schema_version: 1,
        schema_hash: HASH,
        document: JSON.stringify(definition.jsonSchema),
        created_at: at(1),
        created_by: 'system',
        reason: null,
      },
    ],
    config_versions: [
      version(1, { kind: 'initial', created_by: 'system', snapshot: first }),
      version(2, { reason: 'tighter', snapshot: encodeSnapshot(v2, dictionary) }),
      // Written before the registry: no hash.
      version(3, { schema_hash: null, snapshot: encodeSnapshot(v3, dictionary) }),
      version(4, { state: 'staged', snapshot: encodeSnapshot(v4, dictionary) }),
    ],
    staged_secrets: [
      { service: SERVICE, version: 4, path: 'ai.api_key', updated_at: at(4), updated_by: 'alice' },
    ],
    audit_log: [
      audit(1, { kind: 'initial', actor: 'system', version_before: null, changes: '[]' }),
      audit(2, {
        reason: 'tighter',
        changes: JSON.stringify([{ path: 'thresholds.high', from: 0.75, to: 0.8 }]),
      }),
      audit(3, {
        changes: JSON.stringify([{ path: 'cluster.max_cluster_size', from: 15, to: 9 }]),
      }),
      audit(4, {
        kind: 'staged-update',
        version_before: 3,
        changes: JSON.stringify([{ path: 'thresholds.high', from: 0.8, to: 0.9 }]),
      }),
    ],
  };
}

describe.each<StoreKind>(['sqlite', 'postgres'])('compact history (issue 18) on %s', (store) => {
  let dataDir: string;
  let env: Record<string, string>;
  let sut: TestManager | undefined;

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cm-compact-'));
    env = { ...storeEnv(store, dataDir), MQTT_EMBEDDED_PORT: '0' };
    // The store at the schema before this change, with rows as that manager wrote them.
    const settings = loadSettings(env, { warn: () => undefined });
    const options = dataSourceOptions(settings.database);
    if (settings.database.type === 'postgres') {
      const { Client } = await import('pg');
      const client = new Client({ connectionString: settings.database.url });
      await client.connect();
      await client.query(`CREATE SCHEMA "${settings.database.schema}"`);
      await client.end();
    }
    const previous = new DataSource({ ...options, migrations: MIGRATIONS.slice(0, -1) });
    await previous.initialize();
    const postgres = settings.database.type === 'postgres';
    const prefix = settings.database.type === 'postgres' ? `"${settings.database.schema}".` : '';
    for (const [table, rows] of Object.entries(previousRows())) {
      for (const row of rows) {
        const columns = Object.keys(row);
        const marks = columns.map((_, i) => (postgres ? `$${i + 1}` : '?'));
        await previous.query(
          `INSERT INTO ${prefix}"${table}" (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${marks.join(', ')})`,
          Object.values(row),
        );
      }
    }
    await previous.destroy();
  });

  afterEach(async () => {
    await sut?.close();
    sut = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps every version, diff and audit entry of the earlier store, and writes compact rows after', async () => {
    sut = await startManager({ store, env });

    const history = await sut.api.versions(SERVICE).expect(200);
    expect(history.body).toEqual([
      {
        version: 4,
        createdAt: at(4),
        createdBy: 'alice',
        reason: null,
        kind: 'update',
        state: 'staged',
      },
      {
        version: 3,
        createdAt: at(3),
        createdBy: 'alice',
        reason: null,
        kind: 'update',
        state: 'published',
      },
      {
        version: 2,
        createdAt: at(2),
        createdBy: 'alice',
        reason: 'tighter',
        kind: 'update',
        state: 'published',
      },
      {
        version: 1,
        createdAt: at(1),
        createdBy: 'system',
        reason: null,
        kind: 'initial',
        state: 'published',
      },
    ]);
    for (const [n, content] of [
      [1, v1],
      [2, v2],
      [3, v3],
      [4, v4],
    ] as const) {
      const body = (await sut.api.version(SERVICE, n).expect(200)).body;
      expect(body).toMatchObject({ version: n, config: content.config });
    }
    expect((await sut.api.diff(SERVICE, 1, 3).expect(200)).body).toEqual([
      { path: 'cluster.max_cluster_size', from: 15, to: 9 },
      { path: 'thresholds.high', from: 0.75, to: 0.8 },
    ]);
    const before = (await sut.api.audit({ service: SERVICE }).expect(200)).body;
    expect(before.map((e) => [e.kind, e.at, e.actor, e.reason, e.changes])).toEqual([
      ['staged-update', at(4), 'alice', null, [{ path: 'thresholds.high', from: 0.8, to: 0.9 }]],
      ['update', at(3), 'alice', null, [{ path: 'cluster.max_cluster_size', from: 15, to: 9 }]],
      ['update', at(2), 'alice', 'tighter', [{ path: 'thresholds.high', from: 0.75, to: 0.8 }]],
      ['initial', at(1), 'system', null, []],
    ]);

    // A new version (on top of v3, the current one) and a secret: compact rows, the same answers.
    await sut.api.patchConfig(SERVICE, { geo: { max_distance_km: 12 } }).expect(200);
    await sut.api.putSecret(SERVICE, 'ai.api_key', 'sk-upgrade').expect(204);
    const written = (await sut.api.audit({ service: SERVICE, limit: 2 }).expect(200)).body;
    const v5 = (await sut.api.version(SERVICE, 5).expect(200)).body;
    await sut.stop();
    sut = await startManager({ store, reuse: sut });

    expect((await sut.api.audit({ service: SERVICE, limit: 2 }).expect(200)).body).toEqual(written);
    expect(written[0]).toMatchObject({
      kind: 'secret',
      versionBefore: 5,
      versionAfter: 6,
      changes: [{ path: 'ai.api_key', changed: true }],
    });
    expect(written[1]).toMatchObject({
      kind: 'update',
      versionBefore: 3,
      versionAfter: 5,
      actor: 'alice',
      changes: [{ path: 'geo.max_distance_km', from: 10, to: 12 }],
    });
    expect((await sut.api.version(SERVICE, 5).expect(200)).body).toEqual(v5);
    expect((await sut.api.audit({ service: SERVICE }).expect(200)).body.slice(2)).toEqual(before);
    if (store === 'sqlite') {
      const raw = new Database(join(dataDir, 'config.db'), { readonly: true });
      try {
        const table = raw
          .prepare("SELECT sql FROM sqlite_master WHERE name = 'config_versions'")
          .get() as { sql: string };
        expect(table.sql).toContain('WITHOUT ROWID');
        expect(raw.prepare('PRAGMA foreign_key_check').all()).toEqual([]);
        expect(raw.prepare('SELECT * FROM config_versions WHERE version = 5').get()).toMatchObject({
          kind: null,
          state: null,
          schema_version: 1,
          schema_hash: null,
        });
        expect(
          raw
            .prepare('SELECT at, actor, kind, changes FROM audit_log WHERE version_after = 5')
            .get(),
        ).toEqual({
          at: '',
          actor: '',
          kind: '',
          changes: '',
        });
      } finally {
        raw.close();
      }
    }
  });
});
