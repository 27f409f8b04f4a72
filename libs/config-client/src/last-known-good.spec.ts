import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hmacSha256 } from '@app/crypto';
import { ConfigClientError } from './config-client.error';
import { LastKnownGoodStore, type LastKnownGoodFile, LKG_FORMAT } from './last-known-good';

const SERVICE = 'dedup-worker';

function envelopeBytes(version: number): Buffer {
  return Buffer.from(
    JSON.stringify({ alg: 'Ed25519', kid: 'k', payload: `v${version}`, sig: 's' }),
  );
}

function schemaEnvelopeBytes(schemaVersion: number): Buffer {
  return Buffer.from(
    JSON.stringify({ alg: 'Ed25519', kid: 'k', payload: `schema-v${schemaVersion}`, sig: 's' }),
  );
}

describe(LastKnownGoodStore.name, () => {
  let dir: string;
  let path: string;
  let key: Buffer;
  let sut: LastKnownGoodStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lkg-'));
    path = join(dir, 'nested', 'deeper', 'worker.lkg.json');
    key = randomBytes(32);
    sut = new LastKnownGoodStore(path, key);
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function readFile(): LastKnownGoodFile {
    return JSON.parse(readFileSync(path, 'utf8')) as LastKnownGoodFile;
  }

  function writeFile(content: unknown): void {
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  }

  it('saves the raw envelope (creating the directory) and loads the same bytes back', async () => {
    await sut.save(envelopeBytes(3), SERVICE);

    const loaded = await sut.load(SERVICE);

    expect(loaded).toMatchObject({ kind: 'ok', envelopeBytes: envelopeBytes(3) });
    expect(readFile()).toMatchObject({
      format: 1,
      service: SERVICE,
      envelope: envelopeBytes(3).toString('base64'),
    });
    expect(readFile().hmac).toMatch(/^[A-Za-z0-9+/]{43}=$/);
  });

  it('writes mode 0600 through a temp file that it renames (no temp file left)', async () => {
    await sut.save(envelopeBytes(1), SERVICE);
    await sut.save(envelopeBytes(2), SERVICE);

    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dir, 'nested', 'deeper'))).toEqual(['worker.lkg.json']);
  });

  it('applies concurrent saves in call order, so the last saved version wins', async () => {
    await Promise.all([1, 2, 3, 4, 5].map((version) => sut.save(envelopeBytes(version), SERVICE)));

    expect(await sut.load(SERVICE)).toMatchObject({ kind: 'ok', envelopeBytes: envelopeBytes(5) });
  });

  it('reports a missing file as missing', async () => {
    expect(await sut.load(SERVICE)).toEqual({ kind: 'missing' });
  });

  describe('refusing files it cannot trust', () => {
    beforeEach(async () => sut.save(envelopeBytes(7), SERVICE));

    it('refuses a changed envelope (HMAC mismatch)', async () => {
      const file = readFile();
      writeFile({ ...file, envelope: envelopeBytes(8).toString('base64') });

      expect(await sut.load(SERVICE)).toMatchObject({ kind: 'invalid', reason: /HMAC/ });
    });

    it('refuses a file written with another key', async () => {
      const other = new LastKnownGoodStore(path, randomBytes(32));

      expect(await other.load(SERVICE)).toMatchObject({ kind: 'invalid', reason: /HMAC/ });
    });

    it('refuses a truncated file', async () => {
      const text = readFileSync(path, 'utf8');
      writeFile(text.slice(0, Math.floor(text.length / 2)));

      expect(await sut.load(SERVICE)).toMatchObject({ kind: 'invalid', reason: /not JSON/ });
    });

    it('refuses a file for another service, even with a valid HMAC for it', async () => {
      expect(await sut.load('other-worker')).toMatchObject({
        kind: 'invalid',
        reason: /another service/,
      });
    });

    it('binds the service into the HMAC (renaming the service field does not help)', async () => {
      writeFile({ ...readFile(), service: 'other-worker' });

      expect(await sut.load('other-worker')).toMatchObject({ kind: 'invalid', reason: /HMAC/ });
    });

    it.each<[string, (file: LastKnownGoodFile) => unknown]>([
      ['another format', (file) => ({ ...file, format: 2 })],
      ['a non-object', () => [1, 2]],
      ['a missing hmac', ({ hmac: _hmac, ...rest }) => rest],
      ['bad base64 in the envelope', (file) => ({ ...file, envelope: '!!' })],
      ['a short hmac', (file) => ({ ...file, hmac: 'AAAA' })],
    ])('refuses %s', async (_case, change) => {
      writeFile(change(readFile()));

      expect(await sut.load(SERVICE)).toMatchObject({ kind: 'invalid' });
    });

    it('never puts file content into the reason', async () => {
      const marker = 'MARKER-CONTENT-1234';
      writeFile(`{"format":1,"service":"${marker}"`);

      const loaded = await sut.load(SERVICE);

      expect(loaded.kind).toBe('invalid');
      expect(JSON.stringify(loaded)).not.toContain(marker);
    });
  });

  describe('with the signed schema (format 2)', () => {
    it('saves the schema envelope beside the config envelope and loads both back', async () => {
      await sut.save(envelopeBytes(3), SERVICE, schemaEnvelopeBytes(2));

      expect(await sut.load(SERVICE)).toEqual({
        kind: 'ok',
        envelopeBytes: envelopeBytes(3),
        schemaEnvelopeBytes: schemaEnvelopeBytes(2),
        savedAt: expect.any(String),
      });
      expect(LKG_FORMAT).toBe(2);
      expect(readFile()).toMatchObject({
        format: 2,
        service: SERVICE,
        envelope: envelopeBytes(3).toString('base64'),
        schemaEnvelope: schemaEnvelopeBytes(2).toString('base64'),
      });
    });

    it('writes format 1, readable by every SDK version, when there is no schema', async () => {
      await sut.save(envelopeBytes(3), SERVICE, schemaEnvelopeBytes(2));
      expect(readFile().format).toBe(2);
      await sut.save(envelopeBytes(4), SERVICE);

      expect(readFile().format).toBe(1);
      expect(readFile().schemaEnvelope).toBeUndefined();
      expect(await sut.load(SERVICE)).toEqual({
        kind: 'ok',
        envelopeBytes: envelopeBytes(4),
        savedAt: expect.any(String),
      });
    });

    it('reads a format 1 file exactly as the SDK wrote it before format 2', async () => {
      // The format 1 layout: MAC over domain, format 1, service length, service, envelope.
      const header = Buffer.alloc(8);
      header.writeUInt32BE(1, 0);
      header.writeUInt32BE(Buffer.byteLength(SERVICE), 4);
      const mac = hmacSha256(
        key,
        Buffer.concat([
          Buffer.from('config-centre/last-known-good\0'),
          header,
          Buffer.from(SERVICE),
          envelopeBytes(6),
        ]),
      );
      await sut.save(envelopeBytes(1), SERVICE); // creates the directory
      writeFile({
        format: 1,
        service: SERVICE,
        savedAt: '2026-11-21T20:00:00.000Z',
        envelope: envelopeBytes(6).toString('base64'),
        hmac: mac.toString('base64'),
      });

      expect(await sut.load(SERVICE)).toEqual({
        kind: 'ok',
        envelopeBytes: envelopeBytes(6),
        savedAt: '2026-11-21T20:00:00.000Z',
      });
    });

    it.each<[string, (file: LastKnownGoodFile) => unknown, RegExp]>([
      [
        'a changed schema envelope',
        (file) => ({ ...file, schemaEnvelope: schemaEnvelopeBytes(9).toString('base64') }),
        /HMAC/,
      ],
      [
        'the schema envelope removed (read as format 1)',
        ({ schemaEnvelope: _schema, ...rest }) => ({ ...rest, format: 1 }),
        /HMAC/,
      ],
      [
        'bytes moved from one envelope to the other',
        (file) => {
          const both = Buffer.concat([envelopeBytes(3), schemaEnvelopeBytes(2)]);
          return {
            ...file,
            envelope: both.subarray(0, envelopeBytes(3).length - 1).toString('base64'),
            schemaEnvelope: both.subarray(envelopeBytes(3).length - 1).toString('base64'),
          };
        },
        /HMAC/,
      ],
      [
        'format 2 without its schema envelope',
        ({ schemaEnvelope: _schema, ...rest }) => rest,
        /lacks the schema envelope/,
      ],
      [
        'bad base64 in the schema envelope',
        (file) => ({ ...file, schemaEnvelope: '!!' }),
        /base64/,
      ],
    ])('refuses %s', async (_case, change, reason) => {
      await sut.save(envelopeBytes(3), SERVICE, schemaEnvelopeBytes(2));
      writeFile(change(readFile()));

      expect(await sut.load(SERVICE)).toMatchObject({ kind: 'invalid', reason });
    });
  });

  it('refuses an HMAC key shorter than 16 bytes', () => {
    expect(() => new LastKnownGoodStore(path, randomBytes(15))).toThrow(ConfigClientError);
    expect(() => new LastKnownGoodStore(path, randomBytes(15))).toThrow(/lkgHmacKey/);
  });
});
