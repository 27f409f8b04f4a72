import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { bearer, StoreKind, TOKENS } from '@app/testing';
import { startManager, TestManager } from './support/test-app';

const SERVICE = 'dedup-worker';
const admin = bearer(TOKENS.admin);
const SECRET = 'sk-live-7f3a9c1e-do-not-leak';
const OTHER_SECRET = 'sk-live-second-value-do-not-leak';

describe.each<StoreKind>(['sqlite', 'postgres'])('secrets on %s', (store) => {
  let sut: TestManager;
  const bodies: string[] = [];

  beforeEach(async () => {
    sut = await startManager({ store });
    bodies.length = 0;
  });

  afterEach(async () => {
    await sut.close();
  });

  /** Keeps every response body and header so the test can prove no secret left the server. */
  const keep = <R extends { headers: object; text: string }>(res: R): R => {
    bodies.push(JSON.stringify(res.headers), res.text ?? '');
    return res;
  };
  const putSecret = (value: string) => sut.api.putSecret(SERVICE, 'ai.api_key', value).then(keep);

  async function readEverything(): Promise<void> {
    for (const path of [
      `/api/services/${SERVICE}/config`,
      `/api/services/${SERVICE}/versions`,
      `/api/services/${SERVICE}/versions/2`,
      `/api/services/${SERVICE}/diff?from=1&to=2`,
      `/api/audit`,
      `/api/search?q=sk-live`,
      `/api/search?q=api_key`,
      `/api/config`,
      `/api/services`,
    ]) {
      keep(await sut.http().get(path).set(admin));
    }
  }

  it('a secret set through the API is write-only: flags only, and a version of kind secret', async () => {
    const put = await putSecret(SECRET);
    expect(put.status).toBe(204);
    expect(put.headers.etag).toBe('"2"');

    const config = keep(await sut.api.config(SERVICE).expect(200));
    expect(config.body.version).toBe(2);
    expect(config.body.secrets['ai.api_key']).toEqual({ set: true, updatedAt: expect.any(String) });
    const history = keep(await sut.api.versions(SERVICE, { limit: 1 }).expect(200));
    expect(history.body[0]).toMatchObject({ version: 2, kind: 'secret', createdBy: 'alice' });
    const diff = keep(await sut.api.diff(SERVICE, 1, 2));
    expect(diff.body).toEqual([{ path: 'ai.api_key', changed: true }]);
    const audit = keep(await sut.api.audit({ limit: 1 }).expect(200));
    expect(audit.body[0]).toMatchObject({
      kind: 'secret',
      changes: [{ path: 'ai.api_key', changed: true }],
    });
  });

  it('the same value again is a no-op; a new value, clearing and DELETE each make a version', async () => {
    await putSecret(SECRET);
    expect((await putSecret(SECRET)).headers.etag).toBe('"2"');
    expect((await putSecret(OTHER_SECRET)).headers.etag).toBe('"3"');
    expect((await putSecret('')).headers.etag).toBe('"4"');
    const cleared = keep(await sut.api.config(SERVICE).expect(200));
    expect(cleared.body.secrets['ai.api_key']).toEqual({
      set: false,
      updatedAt: expect.any(String),
    });

    await putSecret(SECRET);
    keep(await sut.api.deleteSecret(SERVICE, 'ai.api_key').expect(204));
    const history = keep(await sut.api.versions(SERVICE));
    expect(history.body).toHaveLength(6);
    // Deleting an already-clear secret changes nothing.
    keep(await sut.api.deleteSecret(SERVICE, 'ai.api_key').expect(204));
    expect((await sut.api.versions(SERVICE)).body).toHaveLength(6);
  });

  it('refuses unknown secret paths, non-string values and wrong roles', async () => {
    await sut.api.putSecret(SERVICE, 'ai.model', 'x').expect(404);
    await sut
      .http()
      .put(`/api/services/${SERVICE}/secrets/ai.api_key`)
      .set(admin)
      .send({ value: 42 })
      .expect(400);
    await sut
      .http()
      .put(`/api/services/${SERVICE}/secrets/ai.api_key`)
      .set(admin)
      .send({})
      .expect(400);
    await sut.api.putSecret(SERVICE, 'ai.api_key', 'x'.repeat(4097)).expect(400);
    await sut.api.as(TOKENS.writer).putSecret(SERVICE, 'ai.api_key', 'x').expect(403);
    await sut.api.as(TOKENS.secrets).putSecret(SERVICE, 'ai.api_key', SECRET).expect(204);
    expect((await sut.api.config(SERVICE).expect(200)).body.version).toBe(2);
  });

  it('the secret appears in no response, no log line, no audit row, and not in plaintext in the store', async () => {
    await putSecret(SECRET);
    keep(await sut.api.patchFacadeConfig({ ai_api_key: OTHER_SECRET }).expect(200));
    keep(await sut.api.patchConfig(SERVICE, { ai: { api_key: SECRET } }).expect(400));
    await readEverything();

    for (const value of [SECRET, OTHER_SECRET]) {
      expect(bodies.join('\n')).not.toContain(value);
      expect(sut.logs.text()).not.toContain(value);
    }
    expect(sut.logs.text()).not.toContain(TOKENS.admin);
    expect(await storeBytes(sut)).not.toContain(SECRET);
    expect(await storeBytes(sut)).not.toContain(OTHER_SECRET);
  });

  describe('compatibility façade /api/config', () => {
    it('serves the original shape: sections at top level, no api_key, has_api_key and updated_at', async () => {
      const fresh = keep(await sut.api.facadeConfig().expect(200));
      expect(fresh.body.thresholds).toEqual({ high: 0.75, low: 0.35 });
      expect(fresh.body.ai).not.toHaveProperty('api_key');
      expect(fresh.body).toMatchObject({ has_api_key: false, updated_at: null });
      expect(fresh.body).not.toHaveProperty('config');

      const patched = keep(
        await sut.api
          .patchFacadeConfig({ thresholds: { high: 0.8 }, ai_api_key: SECRET })
          .expect(200),
      );
      expect(patched.body).toMatchObject({
        has_api_key: true,
        thresholds: { high: 0.8, low: 0.35 },
      });
      expect(patched.body.updated_at).toEqual(expect.any(String));
      // Config and key changed together: one version.
      const history = keep(await sut.api.versions(SERVICE).expect(200));
      expect(history.body.map((v) => v.kind)).toEqual(['update', 'initial']);

      const cleared = keep(await sut.api.patchFacadeConfig({ ai_api_key: '' }).expect(200));
      expect(cleared.body.has_api_key).toBe(false);
      expect(cleared.body.thresholds.high).toBe(0.8);
      expect(bodies.join('\n')).not.toContain(SECRET);
    });

    it('validates like the main API and needs secrets:write for the key', async () => {
      const writer = sut.api.as(TOKENS.writer);
      await sut.api.patchFacadeConfig({ thresholds: { low: 0.99 } }).expect(400);
      await sut.api.patchFacadeConfig({ ai_api_key: 12 }).expect(400);
      await writer.patchFacadeConfig({ ai_api_key: SECRET }).expect(403);
      await writer.patchFacadeConfig({ geo: { max_distance_km: 3 } }).expect(200);
      const state = await sut.api.as(TOKENS.reader).facadeConfig().expect(200);
      expect(state.body).toMatchObject({ has_api_key: false, geo: { max_distance_km: 3 } });
    });
  });
});

/** Every byte the store holds: the SQLite files, or a dump of the Postgres schema's tables. */
async function storeBytes(manager: TestManager): Promise<string> {
  const db = manager.settings.database;
  if (db.type === 'sqlite') {
    return readdirSync(manager.dataDir)
      .filter((f) => f.startsWith('config.db'))
      .map((f) => readFileSync(join(manager.dataDir, f)).toString('latin1'))
      .join('');
  }
  const client = new Client({ connectionString: db.url });
  await client.connect();
  try {
    const dumps: string[] = [];
    for (const table of ['services', 'config_versions', 'secrets', 'audit_log']) {
      const rows = await client.query(`SELECT * FROM "${db.schema}"."${table}"`);
      // JSON.stringify would turn a Buffer into an array of numbers; read its bytes instead.
      for (const row of rows.rows as Array<Record<string, unknown>>) {
        for (const value of Object.values(row)) {
          dumps.push(Buffer.isBuffer(value) ? value.toString('latin1') : String(value));
        }
      }
    }
    return dumps.join('\n');
  } finally {
    await client.end();
  }
}
