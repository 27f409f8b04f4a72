import { bearer, TOKENS } from '@app/testing';
import { startManager, TestManager } from './support/test-app';

const SERVICE = 'dedup-worker';
const admin = bearer(TOKENS.admin);
const CONSOLE_ORIGIN = 'https://console.example.com';

describe('HTTP hardening', () => {
  describe('rate limiting', () => {
    let sut: TestManager;

    beforeEach(async () => {
      sut = await startManager({ store: 'sqlite', env: { RATE_LIMIT_PER_MINUTE: '3' } });
    });

    afterEach(async () => {
      await sut.close();
    });

    it('answers 429 in the error shape with Retry-After once a client exceeds the limit', async () => {
      for (let i = 0; i < 3; i++) {
        await sut.http().get(`/api/services/${SERVICE}/config`).set(admin).expect(200);
      }

      const limited = await sut
        .http()
        .get(`/api/services/${SERVICE}/config`)
        .set(admin)
        .expect(429);

      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
      expect(limited.body).toEqual({
        statusCode: 429,
        error: 'Too Many Requests',
        message: expect.stringContaining('at most 3 per minute'),
        requestId: limited.headers['x-request-id'],
      });
    });

    it('limits unauthenticated callers too, before their token is checked', async () => {
      for (let i = 0; i < 3; i++) {
        await sut.http().get(`/api/services/${SERVICE}/config`).expect(401);
      }
      await sut.http().get(`/api/services/${SERVICE}/config`).expect(429);
    });

    it('never limits /health, /health/ready and /metrics', async () => {
      for (let i = 0; i < 5; i++) {
        await sut.http().get('/health').expect(200);
        await sut.http().get('/health/ready').expect(200);
        await sut.http().get('/metrics').expect(200);
      }
      await sut.http().get(`/api/services/${SERVICE}/config`).set(admin).expect(200);
    });
  });

  describe('rate limiting per client and per token', () => {
    let sut: TestManager;

    // Every test request comes from 127.0.0.1: behind one trusted proxy hop, X-Forwarded-For
    // names the client, which is how distinct clients are simulated here.
    beforeEach(async () => {
      sut = await startManager({
        store: 'sqlite',
        env: { RATE_LIMIT_PER_MINUTE: '3', TRUST_PROXY_HOPS: '1' },
      });
    });

    afterEach(async () => {
      await sut.close();
    });

    const from = (ip: string, token: string, path: string) =>
      sut.http().get(path).set('X-Forwarded-For', ip).set(bearer(token));

    it('counts one client across all routes, and leaves another client alone', async () => {
      await from('203.0.113.1', TOKENS.admin, `/api/services/${SERVICE}/config`).expect(200);
      await from('203.0.113.1', TOKENS.admin, `/api/services/${SERVICE}/schema`).expect(200);
      await from('203.0.113.1', TOKENS.admin, `/api/services/${SERVICE}/config`).expect(200);

      const limited = await from('203.0.113.1', TOKENS.admin, `/api/services/${SERVICE}/schema`);
      expect(limited.status).toBe(429);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      await from('203.0.113.1', TOKENS.admin, '/api/services').expect(429);

      await from('203.0.113.2', TOKENS.reader, `/api/services/${SERVICE}/config`).expect(200);
      await from('203.0.113.2', TOKENS.reader, `/api/services/${SERVICE}/schema`).expect(200);
    });

    it('limits one token used from many addresses, with Retry-After', async () => {
      for (const ip of ['198.51.100.1', '198.51.100.2', '198.51.100.3']) {
        await from(ip, TOKENS.writer, `/api/services/${SERVICE}/config`).expect(200);
      }

      const limited = await from('198.51.100.4', TOKENS.writer, `/api/services/${SERVICE}/schema`);
      expect(limited.status).toBe(429);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
      await from('198.51.100.4', TOKENS.reader, `/api/services/${SERVICE}/schema`).expect(200);
    });

    it('keeps a client that rotates bogus tokens in its address bucket', async () => {
      for (const [i, path] of ['/api/services', '/api/me', '/api/services'].entries()) {
        await from('192.0.2.9', `bogus-token-${i}-0123456789`, path).expect(401);
      }
      await from('192.0.2.9', 'bogus-token-3-0123456789', '/api/me').expect(429);
      await from('192.0.2.10', TOKENS.reader, '/api/services').expect(200);
    });
  });

  describe('defaults', () => {
    let sut: TestManager;

    beforeAll(async () => {
      sut = await startManager({ store: 'sqlite' });
    });

    afterAll(async () => {
      await sut.close();
    });

    it('answers 413 in the error shape for a body over 100 kB', async () => {
      const res = await sut
        .http()
        .patch(`/api/services/${SERVICE}/config`)
        .set(admin)
        .send({ geo: { note: 'x'.repeat(110 * 1024) } })
        .expect(413);
      expect(res.body).toEqual({
        statusCode: 413,
        error: 'Payload Too Large',
        message: 'Request body is larger than 100kb',
        code: 'PAYLOAD_TOO_LARGE',
        requestId: res.headers['x-request-id'],
      });
    });

    it('sends security headers and no X-Powered-By', async () => {
      const res = await sut.http().get(`/api/services/${SERVICE}/config`).set(admin).expect(200);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
      expect(res.headers['content-security-policy']).toContain("script-src 'self'");
      expect(res.headers['x-powered-by']).toBeUndefined();
    });

    it('still serves Swagger UI, with a CSP that lets it run', async () => {
      const page = await sut.http().get('/api/docs/').expect(200);
      expect(page.text).toContain('swagger-ui');
      expect(page.headers['content-security-policy']).toContain("script-src 'self'");
      expect(page.headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
      await sut.http().get('/api/docs/swagger-ui-init.js').expect(200);
      await sut.http().get('/api/docs-json').expect(200);
    });

    it('has CORS off: no Access-Control headers for any origin', async () => {
      const res = await sut
        .http()
        .get(`/api/services/${SERVICE}/config`)
        .set(admin)
        .set('Origin', CONSOLE_ORIGIN)
        .expect(200);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      const preflight = await sut
        .http()
        .options(`/api/services/${SERVICE}/config`)
        .set('Origin', CONSOLE_ORIGIN)
        .set('Access-Control-Request-Method', 'PATCH');
      expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
      expect(preflight.headers['access-control-allow-methods']).toBeUndefined();
    });
  });

  describe('CORS_ORIGINS', () => {
    let sut: TestManager;

    beforeAll(async () => {
      sut = await startManager({ store: 'sqlite', env: { CORS_ORIGINS: CONSOLE_ORIGIN } });
    });

    afterAll(async () => {
      await sut.close();
    });

    it('allows exactly the listed origins', async () => {
      const allowed = await sut
        .http()
        .get(`/api/services/${SERVICE}/config`)
        .set(admin)
        .set('Origin', CONSOLE_ORIGIN)
        .expect(200);
      expect(allowed.headers['access-control-allow-origin']).toBe(CONSOLE_ORIGIN);

      const preflight = await sut
        .http()
        .options(`/api/services/${SERVICE}/config`)
        .set('Origin', CONSOLE_ORIGIN)
        .set('Access-Control-Request-Method', 'PATCH')
        .expect(204);
      expect(preflight.headers['access-control-allow-origin']).toBe(CONSOLE_ORIGIN);
      expect(preflight.headers['access-control-allow-methods']).toContain('PATCH');

      const other = await sut
        .http()
        .get(`/api/services/${SERVICE}/config`)
        .set(admin)
        .set('Origin', 'https://evil.example.com')
        .expect(200);
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
    });
  });
});
