import type { AuditEntry } from '@app/contracts';
import { bearer, eventually, TOKENS } from '@app/testing';
import { startManager, type TestManager } from './support/test-app';

const SERVICE = 'dedup-worker';
const CONFIG = `/api/services/${SERVICE}/config`;

/** The value of one sample in Prometheus text, 0 when absent. */
function sample(metrics: string, series: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

const denied = (status: number, route: string, token: string) =>
  `config_http_access_denied_total{status="${status}",route="${route}",token="${token}"}`;

describe('access violations are visible', () => {
  let sut: TestManager;

  beforeEach(async () => {
    sut = await startManager({ store: 'sqlite' });
  });

  afterEach(async () => {
    await sut.close();
  });

  const denials = async (): Promise<AuditEntry[]> =>
    (await sut.api.audit({ limit: 100 }).expect(200)).body.filter(
      (e) => e.kind === 'access.denied',
    );

  it('counts 401s and 403s by route template and token name, never the raw URL or the token', async () => {
    await sut.http().get(CONFIG).expect(401);
    await sut.http().get(CONFIG).set(bearer('not-a-token-at-all')).expect(401);
    await sut.http().get(`/api/services/other-service/versions/7`).expect(401);
    await sut
      .http()
      .patch(CONFIG)
      .set(bearer(TOKENS.reader))
      .send({ thresholds: { high: 0.8 } })
      .expect(403);
    await sut.http().get('/api/audit').set(bearer(TOKENS.writer)).expect(403);

    const metrics = await sut.api.metrics();
    expect(sample(metrics, denied(401, '/api/services/:service/config', '(unknown)'))).toBe(2);
    expect(
      sample(metrics, denied(401, '/api/services/:service/versions/:version', '(unknown)')),
    ).toBe(1);
    expect(sample(metrics, denied(403, '/api/services/:service/config', 'reader'))).toBe(1);
    expect(sample(metrics, denied(403, '/api/audit', 'writer'))).toBe(1);
    expect(metrics).not.toContain('other-service');
    expect(metrics).not.toContain('not-a-token-at-all');
    for (const token of Object.values(TOKENS)) expect(metrics).not.toContain(token);
  });

  it("audits a known token's 403 (route, method, token name, the role it lacks; never the token), not a 401", async () => {
    await sut.http().get(CONFIG).set(bearer('not-a-token-at-all')).expect(401);
    await sut
      .http()
      .put(`/api/services/${SERVICE}/secrets/ai.api_key`)
      .set(bearer(TOKENS.writer))
      .send({ value: 'sk-live-must-not-appear' })
      .expect(403);

    const [entry] = await eventually(denials, (d) => d.length === 1, 3000);
    expect(entry).toMatchObject({
      actor: 'writer',
      service: SERVICE,
      kind: 'access.denied',
      versionBefore: null,
      versionAfter: null,
      changes: [],
    });
    expect(entry.reason).toBe(
      'PUT /api/services/:service/secrets/:path needs the "secrets:write" role, which token "writer" lacks',
    );
    const all = JSON.stringify((await sut.api.audit({ limit: 100 }).expect(200)).body);
    expect(all).not.toContain(TOKENS.writer);
    expect(all).not.toContain('sk-live-must-not-appear');
    expect(all).not.toContain('not-a-token-at-all');
  });

  it('audits the 403 of a role checked inside a route (the facade API key) too', async () => {
    await sut
      .http()
      .patch('/api/config')
      .set(bearer(TOKENS.writer))
      .send({ ai_api_key: 'sk-live-facade-nope' })
      .expect(403);
    const [entry] = await eventually(denials, (d) => d.length === 1, 3000);
    expect(entry).toMatchObject({ actor: 'writer', kind: 'access.denied' });
    expect(entry.reason).toBe(
      'PATCH /api/config needs the "secrets:write" role, which token "writer" lacks',
    );
    expect(sample(await sut.api.metrics(), denied(403, '/api/config', 'writer'))).toBe(1);
  });

  it('writes at most one row per token and route a minute, counting every denial in /metrics', async () => {
    for (let i = 0; i < 5; i++) {
      await sut.http().get('/api/audit').set(bearer(TOKENS.reader)).expect(403);
    }
    // Another route of the same token is its own window.
    await sut.http().post(`/api/services/${SERVICE}/rollback`).set(bearer(TOKENS.reader)).send({
      toVersion: 1,
    });
    const rows = await eventually(denials, (d) => d.length === 2, 3000);
    expect(rows.map((r) => r.reason).sort()).toEqual([
      'GET /api/audit needs the "admin" role, which token "reader" lacks',
      'POST /api/services/:service/rollback needs the "config:write" role, which token "reader" lacks',
    ]);
    expect(sample(await sut.api.metrics(), denied(403, '/api/audit', 'reader'))).toBe(5);
    // Still two rows once the four suppressed ones would have been written.
    await sut.http().get(CONFIG).set(bearer(TOKENS.admin)).expect(200);
    expect(await denials()).toHaveLength(2);
  });
});
