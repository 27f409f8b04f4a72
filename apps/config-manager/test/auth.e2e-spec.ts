import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { bearer, TOKENS } from '@app/testing';
import { startManager, TestManager } from './support/test-app';

const S = '/api/services/dedup-worker';

/** Every protected endpoint, the role it needs, and a token that lacks that role. */
const ENDPOINTS: Array<{
  method: 'get' | 'patch' | 'put' | 'post' | 'delete';
  path: string;
  role: string;
  wrong: string;
  body?: object;
}> = [
  { method: 'get', path: '/api/services', role: 'config:read', wrong: TOKENS.secrets },
  { method: 'get', path: `${S}/schema`, role: 'config:read', wrong: TOKENS.secrets },
  { method: 'get', path: `${S}/config`, role: 'config:read', wrong: TOKENS.secrets },
  {
    method: 'patch',
    path: `${S}/config`,
    role: 'config:write',
    wrong: TOKENS.reader,
    body: { thresholds: { high: 0.8 } },
  },
  { method: 'put', path: `${S}/config`, role: 'config:write', wrong: TOKENS.reader, body: {} },
  {
    method: 'put',
    path: `${S}/secrets/ai.api_key`,
    role: 'secrets:write',
    wrong: TOKENS.writer,
    body: { value: 'abc' },
  },
  {
    method: 'delete',
    path: `${S}/secrets/ai.api_key`,
    role: 'secrets:write',
    wrong: TOKENS.writer,
  },
  { method: 'get', path: `${S}/versions`, role: 'config:read', wrong: TOKENS.secrets },
  { method: 'get', path: `${S}/versions/1`, role: 'config:read', wrong: TOKENS.secrets },
  { method: 'get', path: `${S}/diff?from=1&to=1`, role: 'config:read', wrong: TOKENS.secrets },
  {
    method: 'post',
    path: `${S}/rollback`,
    role: 'config:write',
    wrong: TOKENS.reader,
    body: { toVersion: 1 },
  },
  { method: 'get', path: '/api/search?q=geo', role: 'config:read', wrong: TOKENS.secrets },
  { method: 'get', path: '/api/audit', role: 'admin', wrong: TOKENS.writer },
  { method: 'get', path: '/api/config', role: 'config:read', wrong: TOKENS.secrets },
  {
    method: 'patch',
    path: '/api/config',
    role: 'config:write',
    wrong: TOKENS.reader,
    body: { geo: { max_distance_km: 3 } },
  },
];

describe('authentication and roles', () => {
  let sut: TestManager;

  beforeAll(async () => {
    sut = await startManager({ store: 'sqlite' });
  });

  afterAll(async () => {
    await sut.close();
  });

  const call = (e: (typeof ENDPOINTS)[number], headers: Record<string, string>) => {
    const req = sut.http()[e.method](e.path).set(headers);
    return e.body ? req.send(e.body) : req;
  };

  it.each(ENDPOINTS)(
    '$method $path: 401 without or with a bad token, 403 without $role',
    async (e) => {
      const missing = await call(e, {}).expect(401);
      expect(missing.body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
      expect(missing.headers['www-authenticate']).toBe('Bearer');
      await call(e, bearer('not-a-real-token-at-all')).expect(401);
      await call(e, { Authorization: 'Basic YWxpY2U6c2VjcmV0' }).expect(401);

      const forbidden = await call(e, bearer(e.wrong)).expect(403);
      expect(forbidden.body.message).toContain(e.role);

      const allowed = await call(e, bearer(TOKENS.admin));
      expect(allowed.status).toBeLessThan(300);
    },
  );

  it('never logs a token', () => {
    for (const token of Object.values(TOKENS)) {
      expect(sut.logs.text()).not.toContain(token);
    }
  });
});

describe('generated admin token', () => {
  let sut: TestManager | undefined;

  afterEach(async () => {
    await sut?.close();
  });

  it('without API_TOKENS, writes one admin token (0600), keeps only its hash, and survives restarts', async () => {
    const first = await startManager({ store: 'sqlite', env: { API_TOKENS: '' } });
    sut = first;
    const file = join(first.dataDir, 'admin-token');
    const token = readFileSync(file, 'utf8').trim();

    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(first.logs.text()).toContain(file);
    expect(first.logs.text()).not.toContain(token);
    expect(readFileSync(join(first.dataDir, 'admin-token.sha256'), 'utf8')).not.toContain(token);
    await first.http().get('/api/audit').set(bearer(token)).expect(200);
    await first.http().get('/api/audit').set(bearer(TOKENS.admin)).expect(401);

    await first.stop();
    sut = await startManager({ store: 'sqlite', reuse: first });
    await sut.http().get('/api/audit').set(bearer(token)).expect(200);
    expect(readFileSync(file, 'utf8').trim()).toBe(token);
  });
});
