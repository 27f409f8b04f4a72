import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bearer, TOKENS, buildAdminUi } from '@app/testing';
import { startManager, TestManager } from './support/test-app';

const INDEX =
  '<!doctype html><title>Config centre</title><script src="./assets/app-1a2b.js"></script>';

describe('the admin page at /', () => {
  describe('when built', () => {
    let uiDir: string;
    let sut: TestManager;

    beforeAll(async () => {
      uiDir = mkdtempSync(join(tmpdir(), 'admin-ui-serving-'));
      mkdirSync(join(uiDir, 'assets'));
      writeFileSync(join(uiDir, 'index.html'), INDEX);
      writeFileSync(join(uiDir, 'assets', 'app-1a2b.js'), 'console.log("page")');
      sut = await startManager({ store: 'sqlite', env: { ADMIN_UI_DIR: uiDir } });
    });

    afterAll(async () => {
      await sut.close();
      rmSync(uiDir, { recursive: true, force: true });
    });

    it('serves the page, revalidated on every load, under a same-origin CSP that works over HTTP', async () => {
      const page = await sut.http().get('/').expect(200);

      expect(page.text).toBe(INDEX);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.headers['cache-control']).toBe('no-cache');
      const csp = String(page.headers['content-security-policy']);
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('upgrade-insecure-requests');
    });

    it('caches hashed assets for a year and answers a missing one with a plain 404', async () => {
      const asset = await sut.http().get('/assets/app-1a2b.js').expect(200);
      expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(asset.headers['content-type']).toMatch(/javascript/);

      const missing = await sut.http().get('/assets/app-0000.js').expect(404);
      expect(missing.headers['content-type']).toMatch(/^text\/plain/);
    });

    it('answers any other page path with the page, so reloads and bookmarks work', async () => {
      const page = await sut.http().get('/services/dedup-worker').expect(200);
      expect(page.text).toBe(INDEX);
    });

    it('leaves the API, health and metrics to their own handlers', async () => {
      const unknown = await sut.http().get('/api/no-such-route').expect(404);
      expect(unknown.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
      await sut.http().get('/api/services').expect(401);
      await sut.http().get('/health').expect(200);
      const posted = await sut.http().post('/').send({}).expect(404);
      expect(posted.text).not.toBe(INDEX);
    });
  });

  it('says how to build the page when it was not built, and logs it at start', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'admin-ui-none-'));
    const sut = await startManager({ store: 'sqlite', env: { ADMIN_UI_DIR: empty } });
    try {
      const page = await sut.http().get('/').expect(404);
      expect(page.text).toContain('npm run build');
      expect(sut.logs.text()).toContain(`No admin page in ${empty}`);
      await sut.api.keys().expect(200);
    } finally {
      await sut.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('the production build of the admin page', () => {
  let uiDir: string;

  beforeAll(() => {
    uiDir = buildAdminUi();
  }, 60_000);

  afterAll(() => rmSync(uiDir, { recursive: true, force: true }));

  it('ships no source map, and no file points to one', () => {
    const files = readdirSync(uiDir, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name));

    expect(files.some((file) => file.endsWith('.js'))).toBe(true);
    expect(files.filter((file) => file.endsWith('.map'))).toEqual([]);
    expect(files.filter((file) => readFileSync(file, 'utf8').includes('sourceMappingURL'))).toEqual(
      [],
    );
  });
});

describe('GET /api/me', () => {
  let sut: TestManager;

  beforeAll(async () => {
    sut = await startManager({ store: 'sqlite' });
  });

  afterAll(async () => {
    await sut.close();
  });

  it('names the token and its effective roles, whatever role it holds', async () => {
    const adminMe = await sut.api.me().expect(200);
    expect(adminMe.body).toEqual({
      name: 'alice',
      roles: ['admin', 'config:read', 'config:write', 'secrets:write'],
    });
    const writer = await sut.api.as(TOKENS.writer).me().expect(200);
    expect(writer.body).toEqual({ name: 'writer', roles: ['config:read', 'config:write'] });
    const keeper = await sut.api.as(TOKENS.secrets).me().expect(200);
    expect(keeper.body).toEqual({ name: 'keeper', roles: ['secrets:write'] });
  });

  it('refuses a missing or unknown token with 401', async () => {
    await sut.http().get('/api/me').expect(401);
    await sut.http().get('/api/me').set(bearer('not-a-token')).expect(401);
  });
});
