import { bearer, StoreKind, TOKENS } from '@app/testing';
import { startManager, TestManager } from './support/test-app';

const SERVICE = 'dedup-worker';
const admin = bearer(TOKENS.admin);

/** Each rule of the schema, the PATCH that breaks it, and the path the 400 must name. */
const INVALID_PATCHES: Array<[string, object, string, RegExp]> = [
  ['weights not summing to 1 (names the sum)', { scoring: { date: 0.5 } }, 'scoring', /1\.2/],
  [
    'weight above 1',
    { scoring: { date: 1.5, geo: 0, title: 0, description: 0 } },
    'scoring.date',
    /1/,
  ],
  ['negative weight', { scoring: { geo: -0.1 } }, 'scoring.geo', /0/],
  ['low above high', { thresholds: { low: 0.9 } }, 'thresholds.low', /0\.9/],
  ['threshold above 1', { thresholds: { high: 2 } }, 'thresholds.high', /1/],
  ['non-positive distance', { geo: { max_distance_km: 0 } }, 'geo.max_distance_km', /./],
  [
    'non-positive minutes',
    { date: { time_tolerance_minutes: -5 } },
    'date.time_tolerance_minutes',
    /./,
  ],
  ['cluster size below 2', { cluster: { max_cluster_size: 1 } }, 'cluster.max_cluster_size', /2/],
  [
    'fractional cluster size',
    { cluster: { max_cluster_size: 2.5 } },
    'cluster.max_cluster_size',
    /integer/,
  ],
  [
    'unknown strategy',
    { canonical: { field_strategies: { title: 'random' } } },
    'canonical.field_strategies.title',
    /./,
  ],
  ['string instead of number', { geo: { neutral_score: '0.5' } }, 'geo.neutral_score', /number/],
  ['string instead of boolean', { ai: { enabled: 'yes' } }, 'ai.enabled', /boolean/],
  ['unknown nested field', { scoring: { dat: 0.3 } }, 'scoring.dat', /./],
  ['unknown section', { matching: {} }, 'matching', /./],
  [
    'override weights not summing to 1',
    {
      category_weights: { overrides: { music: { date: 0.9, geo: 0.9, title: 0, description: 0 } } },
    },
    'category_weights.overrides.music',
    /1\.8/,
  ],
  [
    'nested cross_source_type',
    { title: { cross_source_type: { cross_source_type: null } } },
    'title.cross_source_type.cross_source_type',
    /./,
  ],
  [
    'priority of non-strings',
    { category_weights: { priority: [1, 2] } },
    'category_weights.priority.0',
    /string/,
  ],
];

describe.each<StoreKind>(['sqlite', 'postgres'])('validation on %s', (store) => {
  let sut: TestManager;

  beforeAll(async () => {
    sut = await startManager({ store });
  });

  afterAll(async () => {
    await sut.close();
  });

  const patch = (body: unknown) =>
    sut
      .http()
      .patch(`/api/services/${SERVICE}/config`)
      .set(admin)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify(body));

  async function expectNothingStored(): Promise<void> {
    const config = await sut.http().get(`/api/services/${SERVICE}/config`).set(admin);
    expect(config.body.version).toBe(1);
    const history = await sut.http().get(`/api/services/${SERVICE}/versions`).set(admin);
    expect(history.body).toHaveLength(1);
  }

  it.each(INVALID_PATCHES)('rejects %s with 400 naming %s', async (_, body, path, reason) => {
    const res = await patch(body).expect(400);

    expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    const detail = (res.body.details as Array<{ path: string; message: string }>).find(
      (d) => d.path === path,
    );
    expect(detail).toBeDefined();
    expect(detail?.message).toMatch(reason);
    expect(res.body.message).toContain(path);
    await expectNothingStored();
  });

  it('refuses a secret inside the config without echoing it', async () => {
    const res = await patch({ ai: { api_key: 'sk-should-not-echo' } }).expect(400);

    expect(res.body.details).toEqual([expect.objectContaining({ path: 'ai.api_key' })]);
    expect(JSON.stringify(res.body)).not.toContain('sk-should-not-echo');
    await expectNothingStored();
  });

  it('refuses prototype-pollution keys', async () => {
    const res = await sut
      .http()
      .patch(`/api/services/${SERVICE}/config`)
      .set(admin)
      .set('Content-Type', 'application/json')
      .send('{"thresholds":{"__proto__":{"high":0.1}}}')
      .expect(400);
    expect(res.body.details[0].path).toBe('thresholds.__proto__');
    expect(({} as Record<string, unknown>).high).toBeUndefined();
    await expectNothingStored();
  });

  it.each([
    ['an array', [1, 2]],
    ['a string', 'hello'],
    ['null', null],
  ])('refuses a body that is %s', async (_, body) => {
    await patch(body).expect(400);
    await expectNothingStored();
  });

  it('answers malformed JSON with 400, non-JSON with 415 and oversized bodies with 413', async () => {
    const bad = await sut
      .http()
      .patch(`/api/services/${SERVICE}/config`)
      .set(admin)
      .set('Content-Type', 'application/json')
      .send('{"thresholds": {')
      .expect(400);
    expect(bad.body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'Request body is not valid JSON',
      code: 'VALIDATION_FAILED',
      requestId: bad.headers['x-request-id'],
    });

    await sut
      .http()
      .patch(`/api/services/${SERVICE}/config`)
      .set(admin)
      .set('Content-Type', 'text/plain')
      .send('thresholds.high=0.9')
      .expect(415);

    const huge = {
      category_weights: { priority: Array.from({ length: 20000 }, (_, i) => `category-${i}`) },
    };
    const tooLarge = await patch(huge).expect(413);
    expect(tooLarge.body.statusCode).toBe(413);
    await expectNothingStored();
  });

  it('refuses bad query parameters and reasons with 400', async () => {
    await sut.http().get(`/api/services/${SERVICE}/versions?limit=0`).set(admin).expect(400);
    await sut.http().get(`/api/services/${SERVICE}/versions?limit=9999`).set(admin).expect(400);
    await sut.http().get(`/api/services/${SERVICE}/versions?color=red`).set(admin).expect(400);
    await patch({ thresholds: { high: 0.8 } })
      .set('X-Change-Reason', 'x'.repeat(501))
      .expect(400);
    await expectNothingStored();
  });
});
