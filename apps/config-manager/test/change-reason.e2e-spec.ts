import { request as httpRequest } from 'node:http';
import { bearer, StoreKind, TOKENS } from '@app/testing';
import { startManager, TestManager } from './support/test-app';

const SERVICE = 'dedup-worker';
const admin = bearer(TOKENS.admin);

/**
 * A reason sent as raw UTF-8 bytes. Node writes header strings as Latin-1, one byte per
 * character, so the bytes are passed as the Latin-1 characters they read as.
 */
const rawUtf8 = (reason: string) => Buffer.from(reason, 'utf8').toString('latin1');
/** A reason as the admin page sends it: an RFC 8187 ext-value. */
const encoded = (reason: string) => `UTF-8''${encodeURIComponent(reason)}`;

interface WriteResult {
  status: number;
  body: { message?: string; details?: Array<{ path: string; message: string }> };
}

describe.each<StoreKind>(['sqlite', 'postgres'])('X-Change-Reason on %s', (store) => {
  let sut: TestManager;
  let distance = 10;

  beforeAll(async () => {
    sut = await startManager({ store });
  });

  afterAll(async () => {
    await sut.close();
  });

  /**
   * A write with exactly these header bytes. Not supertest: Node writes a string body in one go
   * with the headers, in the body's encoding (UTF-8), which would encode the Latin-1 characters
   * of rawUtf8 once more; a Buffer body leaves the headers as Latin-1.
   */
  async function write(path: string, reason: string, body: object): Promise<WriteResult> {
    const url = new URL(`/api/services/${SERVICE}/${path}`, await sut.app.getUrl());
    const bytes = Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = httpRequest(url, {
        method: path === 'config' ? 'PATCH' : 'POST',
        headers: {
          ...admin,
          'Content-Type': 'application/json',
          'Content-Length': bytes.length,
          'X-Change-Reason': reason,
        },
      });
      req.once('error', reject);
      req.once('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as WriteResult['body'],
          }),
        );
      });
      req.end(bytes);
    });
  }

  /** A PATCH that always changes something, with this reason header. */
  const patchWith = (reason: string) => {
    distance += 1;
    return write('config', reason, { geo: { max_distance_km: distance } });
  };

  /** The reason of the newest version in history and of the newest audit entry. */
  async function storedReasons(): Promise<[unknown, unknown]> {
    const history = await sut.http().get(`/api/services/${SERVICE}/versions`).set(admin);
    const audit = await sut.http().get(`/api/audit?service=${SERVICE}&limit=1`).set(admin);
    return [history.body[0].reason, audit.body[0].reason];
  }

  async function newestVersion(): Promise<number> {
    const config = await sut.http().get(`/api/services/${SERVICE}/config`).set(admin);
    return config.body.version as number;
  }

  const REASON = 'Schwellwert für Köln ↑, 東京 too 🎉 (e\u0301)';

  it.each([
    ['raw UTF-8 bytes', rawUtf8(REASON)],
    ['the RFC 8187 form the admin page sends', encoded(REASON)],
  ])('stores a reason sent as %s exactly, in history and audit', async (_, header) => {
    expect((await patchWith(header)).status).toBe(200);

    expect(await storedReasons()).toEqual([REASON, REASON]);
  });

  it('stores a reason given to a rollback the same way', async () => {
    expect((await patchWith('before the rollback')).status).toBe(200);
    const rollback = await write('rollback', rawUtf8('zurück: Köln'), { toVersion: 1 });
    expect(rollback.status).toBe(200);

    expect(await storedReasons()).toEqual(['zurück: Köln', 'zurück: Köln']);
  });

  it('stores a reason with control characters stripped (tabs and line breaks as spaces)', async () => {
    expect((await patchWith(encoded('\u0001line one\nline\ttwo\u007f\u0085\r\n'))).status).toBe(
      200,
    );
    expect(await storedReasons()).toEqual(['line one line two', 'line one line two']);

    expect((await patchWith(rawUtf8('\tC1\u009b controls\u0085 gone '))).status).toBe(200);
    expect(await storedReasons()).toEqual(['C1 controls gone', 'C1 controls gone']);
  });

  it('accepts 500 emoji (1000 UTF-16 units) and refuses 501 code points, naming the header', async () => {
    const emoji = '😀'.repeat(500);
    expect((await patchWith(rawUtf8(emoji))).status).toBe(200);
    expect(await storedReasons()).toEqual([emoji, emoji]);
    expect((await patchWith(encoded(emoji))).status).toBe(200);
    expect(await storedReasons()).toEqual([emoji, emoji]);

    const before = await newestVersion();
    for (const header of [rawUtf8('é'.repeat(501)), encoded('😀'.repeat(501))]) {
      const res = await patchWith(header);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({
        message: 'X-Change-Reason must be at most 500 characters',
        details: [{ path: 'X-Change-Reason', message: 'at most 500 characters' }],
      });
    }
    expect(await newestVersion()).toBe(before);
  });

  it('refuses bytes that are not UTF-8 with 400 naming the header', async () => {
    const before = await newestVersion();
    for (const header of ['caf\u00e9', "UTF-8''caf%E9", "UTF-8''50%"]) {
      const res = await patchWith(header);
      expect(res.status).toBe(400);
      expect(res.body.details).toEqual([
        { path: 'X-Change-Reason', message: expect.stringContaining('must be UTF-8') },
      ]);
    }
    expect(await newestVersion()).toBe(before);
  });
});
