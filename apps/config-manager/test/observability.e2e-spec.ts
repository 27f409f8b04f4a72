import { connectAsync } from 'mqtt';
import { bearer, eventually, TOKENS } from '@app/testing';
import { startManager, TestManager } from './support/test-app';

const SERVICE = 'dedup-worker';
const admin = bearer(TOKENS.admin);
const SECRET = 'sk-live-observability-do-not-leak';
const FACADE_SECRET = 'sk-live-facade-do-not-leak';

/** The value of one sample in Prometheus text, 0 when absent. */
function sample(metrics: string, series: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe('observability', () => {
  let sut: TestManager;

  beforeEach(async () => {
    sut = await startManager({ store: 'sqlite' });
  });

  afterEach(async () => {
    await sut.close();
  });

  const metrics = async (): Promise<string> =>
    (
      await sut
        .http()
        .get('/metrics')
        .expect(200)
        .expect('Content-Type', /text\/plain/)
    ).text;

  describe('request ids', () => {
    it('honours a valid incoming X-Request-Id and returns it', async () => {
      const res = await sut
        .http()
        .get(`/api/services/${SERVICE}/config`)
        .set(admin)
        .set('X-Request-Id', 'deploy-42.step_3')
        .expect(200);
      expect(res.headers['x-request-id']).toBe('deploy-42.step_3');
    });

    it.each([
      ['characters outside [A-Za-z0-9._-]', 'id with spaces'],
      ['more than 64 characters', 'a'.repeat(65)],
      ['a forged log line', 'x"}\n{"level":60'],
    ])('replaces an incoming id with %s by a generated one', async (_, incoming) => {
      const res = await sut
        .http()
        .get(`/api/services/${SERVICE}/config`)
        .set(admin)
        .set('X-Request-Id', incoming.replace('\n', ''))
        .expect(200);
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('puts the request id into every error body, matching the header', async () => {
      const unknown = await sut.http().get('/api/services/nope/config').set(admin).expect(404);
      expect(unknown.body.requestId).toBe(unknown.headers['x-request-id']);

      const unauthenticated = await sut
        .http()
        .get(`/api/services/${SERVICE}/config`)
        .set('X-Request-Id', 'caller-chosen-id')
        .expect(401);
      expect(unauthenticated.body).toMatchObject({
        statusCode: 401,
        requestId: 'caller-chosen-id',
      });
      expect(unauthenticated.headers['x-request-id']).toBe('caller-chosen-id');
    });
  });

  describe('logs', () => {
    it('log every request with its id as JSON, and never a token or a secret', async () => {
      await sut
        .http()
        .put(`/api/services/${SERVICE}/secrets/ai.api_key`)
        .set(admin)
        .set('X-Request-Id', 'put-secret-1')
        .send({ value: SECRET })
        .expect(204);
      await sut
        .http()
        .patch('/api/config')
        .set(admin)
        .set('X-Request-Id', 'patch-facade-1')
        .send({ ai_api_key: FACADE_SECRET, thresholds: { high: 0.8 } })
        .expect(200);

      const text = sut.logs.text();
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(FACADE_SECRET);
      expect(text).not.toContain(TOKENS.admin);

      const entries = sut.logs.entries();
      const put = entries.filter((e) => e.requestId === 'put-secret-1');
      const patch = entries.filter((e) => e.requestId === 'patch-facade-1');
      expect(put.length).toBeGreaterThan(0);
      expect(patch.length).toBeGreaterThan(0);
      // The completion line of each request is there; headers (credentials) are never logged.
      expect(put).toContainEqual(
        expect.objectContaining({
          msg: 'request completed',
          req: {
            method: 'PUT',
            url: '/api/services/dedup-worker/secrets/ai.api_key',
            remoteAddress: expect.any(String),
          },
          res: { statusCode: 204 },
        }),
      );
      expect(entries.some((e) => JSON.stringify(e).includes('authorization'))).toBe(false);
      // Application logs written while handling the request carry its id too.
      expect(patch.some((e) => e.msg !== 'request completed')).toBe(true);
    });

    it('logs the path and parameter names of a query string, never a token or a search term', async () => {
      const needle = 'sk-live-searched-for-do-not-log';
      await sut
        .http()
        .get('/api/search')
        .query({ token: TOKENS.writer, q: needle, access_token: TOKENS.reader })
        .set(admin)
        .set('X-Request-Id', 'search-1')
        // Refused (token and access_token are not parameters of the API), and logged all the same.
        .expect(400);

      const text = sut.logs.text();
      expect(text).not.toContain(TOKENS.writer);
      expect(text).not.toContain(TOKENS.reader);
      expect(text).not.toContain(needle);
      expect(sut.logs.entries()).toContainEqual(
        expect.objectContaining({
          requestId: 'search-1',
          msg: 'request completed',
          res: { statusCode: 400 },
          req: expect.objectContaining({
            url: '/api/search?token=[redacted]&q=[redacted]&access_token=[redacted]',
          }),
        }),
      );
    });
  });

  describe('/metrics', () => {
    it('serves Prometheus text with publish counters, the HTTP histogram and process metrics', async () => {
      const published = `config_versions_published_total{service="${SERVICE}"}`;
      // Version 1 is published once the broker connection is up.
      const before = sample(await eventually(metrics, (t) => sample(t, published) >= 1), published);
      expect(before).toBe(1);

      await sut.api.patchConfig(SERVICE, { thresholds: { high: 0.8 } }).expect(200);

      const text = await metrics();
      expect(sample(text, published)).toBe(2);
      expect(text).toContain('# TYPE config_publish_failures_total counter');
      expect(
        sample(
          text,
          'http_request_duration_seconds_count{method="PATCH",route="/api/services/:service/config",status="200"}',
        ),
      ).toBe(1);
      expect(text).toContain('# TYPE http_request_duration_seconds histogram');
      expect(text).toContain('process_cpu_user_seconds_total');
    });

    it('labels requests refused before routing without their raw URL', async () => {
      await sut.http().get('/api/no/such/route/abc123').set(admin).expect(404);
      const text = await metrics();
      expect(text).toContain('route="(unmatched)",status="404"');
      expect(text).not.toContain('abc123');
    });

    it('counts instances per service, applied version and status', async () => {
      const ready = await eventually(
        () => sut.api.ready(),
        (res) => res.status === 200,
      );
      const worker = await connectAsync(String(ready.body.checks.broker.url), {
        reconnectPeriod: 0,
      });
      try {
        await worker.publishAsync(
          `system/health/${SERVICE}/w-1`,
          JSON.stringify({
            service: SERVICE,
            instanceId: 'w-1',
            status: 'online',
            appliedVersion: 1,
          }),
          { qos: 1, retain: true },
        );
        const series = `config_instances{service="${SERVICE}",version="1",status="online"}`;
        expect(sample(await eventually(metrics, (t) => sample(t, series) === 1), series)).toBe(1);
      } finally {
        await worker.endAsync(true);
      }
    });

    it('is not under /api and needs no token', async () => {
      await sut.http().get('/api/metrics').set(admin).expect(404);
      await sut.http().get('/metrics').expect(200);
    });
  });
});
