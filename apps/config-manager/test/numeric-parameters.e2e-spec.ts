import { bearer, TOKENS } from '@app/testing';
import { startManager, TestManager } from './support/test-app';

const SERVICE = 'dedup-worker';
const admin = bearer(TOKENS.admin);
const S = `/api/services/${SERVICE}`;

/** Spellings `Number()` reads as a number (or that look like one), none of them decimal digits. */
const NOT_DECIMAL = ['0x10', '0b10', '1e1', ' 1', '+1', '1.0', '０１', '016', '', '1,2'];

describe('numeric path and query parameters', () => {
  let sut: TestManager;

  beforeAll(async () => {
    sut = await startManager({ store: 'sqlite' });
    // Versions 2 to 16, so that 0x10 (16), 0b10 (2) and 1e1 (10) would all name one.
    for (let distance = 2; distance <= 16; distance++) {
      await sut
        .http()
        .patch(`${S}/config`)
        .set(admin)
        .send({ geo: { max_distance_km: distance } })
        .expect(200);
    }
  });

  afterAll(async () => {
    await sut.close();
  });

  const get = (path: string) => sut.http().get(path).set(admin);

  async function expectRefused(path: string, parameter: string): Promise<void> {
    const res = await get(path);
    expect({ path, status: res.status }).toEqual({ path, status: 400 });
    expect(res.body.details).toEqual([
      { path: parameter, message: expect.stringContaining(`${parameter} must be`) },
    ]);
  }

  it('reads decimal digits everywhere', async () => {
    expect((await get(`${S}/versions/16`).expect(200)).body.version).toBe(16);
    expect((await get(`${S}/versions?limit=16`).expect(200)).body).toHaveLength(16);
    expect((await get(`${S}/versions?limit=2&before=16`).expect(200)).body).toEqual([
      expect.objectContaining({ version: 15 }),
      expect.objectContaining({ version: 14 }),
    ]);
    expect((await get(`/api/audit?limit=16`).expect(200)).body).toHaveLength(16);
    expect((await get(`${S}/diff?from=1&to=16`).expect(200)).body).toEqual([
      { path: 'geo.max_distance_km', from: 10, to: 16 },
    ]);
  });

  // An empty segment is another route (the history).
  it.each(NOT_DECIMAL.filter(Boolean))(
    'refuses the version %j in the path, naming it',
    async (raw) => {
      await expectRefused(`${S}/versions/${encodeURIComponent(raw)}`, 'version');
    },
  );

  it.each(NOT_DECIMAL)('refuses %j as limit or before of history and audit', async (raw) => {
    const value = encodeURIComponent(raw);
    await expectRefused(`${S}/versions?limit=${value}`, 'limit');
    await expectRefused(`${S}/versions?before=${value}`, 'before');
    await expectRefused(`/api/audit?limit=${value}`, 'limit');
    await expectRefused(`/api/audit?service=${SERVICE}&before=${value}`, 'before');
  });

  it.each(NOT_DECIMAL)('refuses %j as from or to of a diff', async (raw) => {
    const value = encodeURIComponent(raw);
    await expectRefused(`${S}/diff?from=${value}&to=16`, 'from');
    await expectRefused(`${S}/diff?from=1&to=${value}`, 'to');
  });

  it('still checks the ranges, and refuses a repeated parameter', async () => {
    await expectRefused(`${S}/versions/0`, 'version');
    await expectRefused(`${S}/versions?limit=501`, 'limit');
    await expectRefused(`${S}/versions?limit=0`, 'limit');
    await expectRefused(`${S}/versions?limit=5&limit=6`, 'limit');
    await expectRefused(`${S}/diff?from=0&to=2`, 'from');
    await expectRefused(`${S}/versions?before=99999999999`, 'before');
  });
});
