import { bearer, StoreKind, TOKENS, type WriteOptions } from '@app/testing';
import { startManager, TestManager } from './support/test-app';

const SERVICE = 'dedup-worker';
const admin = bearer(TOKENS.admin);

describe.each<StoreKind>(['sqlite', 'postgres'])('config API on %s', (store) => {
  let sut: TestManager;

  beforeEach(async () => {
    sut = await startManager({ store });
  });

  afterEach(async () => {
    await sut.close();
  });

  const patch = (body: object, options: WriteOptions = {}) =>
    sut.api.patchConfig(SERVICE, body, options);

  it('starts every service at version 1 with the design defaults', async () => {
    const res = await sut.api.config(SERVICE).expect(200);

    expect(res.headers.etag).toBe('"1"');
    expect(res.body).toMatchObject({ service: SERVICE, version: 1, updatedBy: 'system' });
    expect(res.body.config.scoring).toEqual({
      date: 0.3,
      geo: 0.25,
      title: 0.3,
      description: 0.15,
    });
    expect(res.body.config.thresholds).toEqual({ high: 0.75, low: 0.35 });
    expect(res.body.config.title.cross_source_type).toBeNull();
    expect(res.body.config.ai).not.toHaveProperty('api_key');
    expect(res.body.secrets).toEqual({ 'ai.api_key': { set: false, updatedAt: null } });

    const history = await sut.api.versions(SERVICE).expect(200);
    expect(history.body).toEqual([
      expect.objectContaining({ version: 1, kind: 'initial', createdBy: 'system' }),
    ]);
  });

  it('PATCH deep-merges: unset fields, nested too, are preserved; arrays replace', async () => {
    await patch({ category_weights: { priority: ['music', 'talks'] } }).expect(200);
    const res = await patch(
      {
        thresholds: { high: 0.9 },
        title: { cross_source_type: { primary_weight: 0.5, secondary_weight: 0.5 } },
        category_weights: { priority: ['markets'] },
      },
      { reason: 'tighter matching' },
    ).expect(200);

    expect(res.headers.etag).toBe('"3"');
    expect(res.body.version).toBe(3);
    expect(res.body.updatedBy).toBe('alice');
    expect(res.body.config.thresholds).toEqual({ high: 0.9, low: 0.35 });
    expect(res.body.config.title.primary_weight).toBe(0.7);
    expect(res.body.config.title.cross_source_type).toEqual({
      primary_weight: 0.5,
      secondary_weight: 0.5,
      blend_lower: 0.4,
      blend_upper: 0.8,
    });
    expect(res.body.config.category_weights.priority).toEqual(['markets']);
    expect((await sut.api.config(SERVICE)).body).toEqual(res.body);
  });

  it('PUT replaces the whole config; omitted fields take schema defaults', async () => {
    await patch({ geo: { max_distance_km: 25 }, thresholds: { high: 0.9 } }).expect(200);

    const res = await sut.api
      .putConfig(SERVICE, { thresholds: { high: 0.8, low: 0.2 } })
      .expect(200);

    expect(res.body.version).toBe(3);
    expect(res.body.config.thresholds).toEqual({ high: 0.8, low: 0.2 });
    expect(res.body.config.geo.max_distance_km).toBe(10);
  });

  it('a change that changes nothing creates no version', async () => {
    await patch({ thresholds: { high: 0.8 } }).expect(200);
    const again = await patch({ thresholds: { high: 0.8 } }).expect(200);

    expect(again.body.version).toBe(2);
    expect(again.headers['x-version-created']).toBe('false');
    const history = await sut.api.versions(SERVICE);
    expect(history.body).toHaveLength(2);
  });

  it('If-Match: the current version succeeds, a stale one gets 412 and changes nothing', async () => {
    await patch({ thresholds: { high: 0.8 } }, { ifMatch: 1 }).expect(200);

    const stale = await patch({ thresholds: { high: 0.6 } }, { ifMatch: 1 }).expect(412);

    expect(stale.body).toMatchObject({ statusCode: 412, error: 'Precondition Failed' });
    expect(stale.body.message).toContain('version 2');
    expect((await sut.api.config(SERVICE).expect(200)).body.config.thresholds.high).toBe(0.8);
    await patch({ thresholds: { high: 0.6 } }, { ifMatch: 'W/"2"' }).expect(200);
    await patch({ thresholds: { high: 0.6 } }, { ifMatch: 'banana' }).expect(400);
  });

  it('keeps history newest first with paging, each version readable, and diffs them', async () => {
    await patch({ thresholds: { high: 0.8 } }, { reason: 'first' }).expect(200);
    await patch({ geo: { max_distance_km: 5 }, category_weights: { priority: ['music'] } }).expect(
      200,
    );

    const history = await sut.api.versions(SERVICE, { limit: 2 }).expect(200);
    expect(history.body.map((v) => v.version)).toEqual([3, 2]);
    expect(history.body[1]).toMatchObject({ kind: 'update', reason: 'first', createdBy: 'alice' });
    const older = await sut.api.versions(SERVICE, { before: 2 }).expect(200);
    expect(older.body.map((v) => v.version)).toEqual([1]);

    const v2 = await sut.api.version(SERVICE, 2).expect(200);
    expect(v2.body).toMatchObject({ version: 2, kind: 'update', reason: 'first' });
    expect(v2.body.config.thresholds.high).toBe(0.8);
    expect(v2.body.config.geo.max_distance_km).toBe(10);

    const diff = await sut.api.diff(SERVICE, 1, 3).expect(200);
    expect(diff.body).toEqual([
      { path: 'category_weights.priority', from: [], to: ['music'] },
      { path: 'geo.max_distance_km', from: 10, to: 5 },
      { path: 'thresholds.high', from: 0.75, to: 0.8 },
    ]);

    await sut.api.version(SERVICE, 99).expect(404);
    await sut.http().get(`/api/services/${SERVICE}/versions/abc`).set(admin).expect(400);
    await sut.api.diff(SERVICE, 1, 99).expect(404);
    await sut.http().get(`/api/services/${SERVICE}/diff?from=1`).set(admin).expect(400);
  });

  it('rollback creates a new version with the old content', async () => {
    await patch({ thresholds: { high: 0.8 } }).expect(200);
    await patch({ thresholds: { high: 0.9 }, geo: { neutral_score: 0.4 } }).expect(200);

    const res = await sut.api.rollback(SERVICE, 2).expect(200);

    expect(res.body.version).toBe(4);
    expect(res.body.config.thresholds.high).toBe(0.8);
    expect(res.body.config.geo.neutral_score).toBe(0.5);
    const history = await sut.api.versions(SERVICE, { limit: 1 }).expect(200);
    expect(history.body[0]).toMatchObject({
      version: 4,
      kind: 'rollback',
      reason: 'rollback to version 2',
    });
    await sut.api.rollback(SERVICE, 42).expect(404);
    await sut
      .http()
      .post(`/api/services/${SERVICE}/rollback`)
      .set(admin)
      .send({ toVersion: 'x' })
      .expect(400);
  });

  it('records every change in the audit log with who, versions, reason and changed paths', async () => {
    await patch({ thresholds: { high: 0.8 } }, { reason: 'ticket 42' }).expect(200);

    const audit = await sut.api.audit({ service: SERVICE }).expect(200);

    expect(audit.body[0]).toMatchObject({
      actor: 'alice',
      service: SERVICE,
      kind: 'update',
      versionBefore: 1,
      versionAfter: 2,
      reason: 'ticket 42',
      changes: [{ path: 'thresholds.high', from: 0.75, to: 0.8 }],
    });
    expect(audit.body[1]).toMatchObject({ kind: 'initial', versionAfter: 1, actor: 'system' });
    const page = await sut.api.audit({ limit: 1, before: audit.body[0].id });
    expect(page.body).toEqual([audit.body[1]]);
  });

  it('lists services, serves the JSON Schema with defaults, ranges and the secret path', async () => {
    const services = await sut.api.services().expect(200);
    expect(services.body).toEqual([expect.objectContaining({ service: SERVICE, version: 1 })]);

    const schema = await sut.api.schema(SERVICE).expect(200);
    expect(schema.body.schemaHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(schema.body.secretPaths).toEqual(['ai.api_key']);
    expect(JSON.stringify(schema.body.schema)).toContain('"default":0.75');
    expect(JSON.stringify(schema.body.schema)).toContain('"writeOnly":true');

    await sut.api.config('no-such-service').expect(404);
    await sut.api.schema('no-such-service').expect(404);
  });

  it('searches keys and values across services, secrets by name only', async () => {
    await patch({ ai: { model: 'gemini-special' } }).expect(200);

    const byKey = await sut.api.search('MAX_DISTANCE').expect(200);
    expect(byKey.body).toEqual([{ service: SERVICE, path: 'geo.max_distance_km', value: 10 }]);
    const byValue = await sut.api.search('special').expect(200);
    expect(byValue.body).toEqual([{ service: SERVICE, path: 'ai.model', value: 'gemini-special' }]);
    const secret = await sut.api.search('api_key').expect(200);
    expect(secret.body).toEqual([
      { service: SERVICE, path: 'ai.api_key', secret: true, set: false },
    ]);
    await sut.http().get('/api/search').set(admin).expect(400);
  });

  it('serves OpenAPI at /api/docs and liveness/readiness without a token', async () => {
    const docs = await sut.http().get('/api/docs-json').expect(200);
    expect(Object.keys(docs.body.paths)).toContain('/api/services/{service}/config');
    await sut.http().get('/api/docs').expect(200);
    await sut.http().get('/health').expect(200, { status: 'ok' });
    const ready = await sut.api.ready().expect(200);
    expect(ready.body.checks.database.status).toBe('up');
  });
});
