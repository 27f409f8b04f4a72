import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hmacSha256 } from '@app/crypto';
import { ConfigClientError } from './config-client.error';
import {
  lastKnownGoodMacInput,
  LastKnownGoodStore,
  type LastKnownGoodFile,
  LKG_FORMAT,
} from './last-known-good';

const SERVICE = 'dedup-worker';
const INSTANCE = 'worker-1';
const DOMAIN = Buffer.from('config-centre/last-known-good\0');

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

function u32(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value, 0);
  return bytes;
}

// The layouts of earlier SDKs, written out by hand so that a change to them fails here.
function formatOneFile(key: Buffer, envelope: Buffer): LastKnownGoodFile {
  const mac = hmacSha256(
    key,
    Buffer.concat([
      DOMAIN,
      u32(1),
      u32(Buffer.byteLength(SERVICE)),
      Buffer.from(SERVICE),
      envelope,
    ]),
  );
  return {
    format: 1,
    service: SERVICE,
    savedAt: '2026-11-21T20:00:00.000Z',
    envelope: envelope.toString('base64'),
    hmac: mac.toString('base64'),
  };
}

function formatTwoFile(key: Buffer, envelope: Buffer, schema: Buffer): LastKnownGoodFile {
  const mac = hmacSha256(
    key,
    Buffer.concat([
      DOMAIN,
      u32(2),
      u32(Buffer.byteLength(SERVICE)),
      Buffer.from(SERVICE),
      u32(envelope.length),
      envelope,
      schema,
    ]),
  );
  return {
    format: 2,
    service: SERVICE,
    savedAt: '2026-11-21T20:00:00.000Z',
    envelope: envelope.toString('base64'),
    schemaEnvelope: schema.toString('base64'),
    hmac: mac.toString('base64'),
  };
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
    sut = new LastKnownGoodStore(path, key, INSTANCE);
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function readFile(): LastKnownGoodFile {
    return JSON.parse(readFileSync(path, 'utf8')) as LastKnownGoodFile;
  }

  function writeFile(content: unknown): void {
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  }

  it('saves the raw envelope as format 3 (creating the directory) and loads the same bytes back', async () => {
    await sut.save(envelopeBytes(3), SERVICE);

    const loaded = await sut.load(SERVICE);

    expect(loaded).toEqual({
      kind: 'ok',
      envelopeBytes: envelopeBytes(3),
      savedAt: readFile().savedAt,
      format: 3,
      underPreviousKey: false,
    });
    expect(LKG_FORMAT).toBe(3);
    expect(readFile()).toEqual({
      format: 3,
      service: SERVICE,
      instanceId: INSTANCE,
      savedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      envelope: envelopeBytes(3).toString('base64'),
      hmac: expect.stringMatching(/^[A-Za-z0-9+/]{43}=$/),
    });
  });

  it('computes the format 3 HMAC over exactly the bytes the README describes', async () => {
    await sut.save(envelopeBytes(3), SERVICE, schemaEnvelopeBytes(2));
    const file = readFile();
    const lp = (bytes: Buffer) => Buffer.concat([u32(bytes.length), bytes]);
    const expected = Buffer.concat([
      DOMAIN,
      u32(3),
      u32(Buffer.byteLength(SERVICE)),
      Buffer.from(SERVICE),
      lp(Buffer.from(INSTANCE)),
      lp(Buffer.from(file.savedAt)),
      lp(envelopeBytes(3)),
      lp(schemaEnvelopeBytes(2)),
    ]);

    expect(
      lastKnownGoodMacInput({
        format: 3,
        service: SERVICE,
        instanceId: INSTANCE,
        savedAt: file.savedAt,
        envelope: envelopeBytes(3),
        schemaEnvelope: schemaEnvelopeBytes(2),
      }),
    ).toEqual(expected);
    expect(file.hmac).toBe(hmacSha256(key, expected).toString('base64'));
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
      const other = new LastKnownGoodStore(path, randomBytes(32), INSTANCE);

      expect(await other.load(SERVICE)).toMatchObject({ kind: 'invalid', reason: /HMAC/ });
    });

    it('refuses a file saved by another instance, naming neither its content nor its instance', async () => {
      const other = new LastKnownGoodStore(path, key, 'worker-2');

      const loaded = await other.load(SERVICE);

      expect(loaded).toMatchObject({ kind: 'invalid', reason: /another instance/ });
      expect(JSON.stringify(loaded)).not.toContain(INSTANCE);
    });

    it('binds the instance into the HMAC (renaming the instanceId field does not help)', async () => {
      writeFile({ ...readFile(), instanceId: 'worker-2' });

      expect(await new LastKnownGoodStore(path, key, 'worker-2').load(SERVICE)).toMatchObject({
        kind: 'invalid',
        reason: /HMAC/,
      });
    });

    it('refuses a file whose savedAt was edited', async () => {
      writeFile({ ...readFile(), savedAt: '2099-01-01T00:00:00.000Z' });

      expect(await sut.load(SERVICE)).toMatchObject({ kind: 'invalid', reason: /savedAt/ });
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
      ['another format', (file) => ({ ...file, format: 4 })],
      ['format 3 read as format 1', (file) => ({ ...file, format: 1 })],
      ['format 3 without its instance', ({ instanceId: _id, ...rest }) => rest],
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

  describe('key rotation (LKG_HMAC_KEYS_PREVIOUS)', () => {
    it('reads a file under a previous key and says so; the next save is under the current key', async () => {
      const oldKey = randomBytes(32);
      await new LastKnownGoodStore(path, oldKey, INSTANCE).save(envelopeBytes(4), SERVICE);
      const rotated = new LastKnownGoodStore(path, key, INSTANCE, [randomBytes(16), oldKey]);

      expect(await rotated.load(SERVICE)).toMatchObject({
        kind: 'ok',
        envelopeBytes: envelopeBytes(4),
        underPreviousKey: true,
      });
      await rotated.save(envelopeBytes(4), SERVICE);
      expect(await sut.load(SERVICE)).toMatchObject({ kind: 'ok', underPreviousKey: false });
      expect(await new LastKnownGoodStore(path, oldKey, INSTANCE).load(SERVICE)).toMatchObject({
        kind: 'invalid',
      });
    });

    it('still refuses a file that checks under none of the keys', async () => {
      await new LastKnownGoodStore(path, randomBytes(32), INSTANCE).save(envelopeBytes(4), SERVICE);

      expect(
        await new LastKnownGoodStore(path, key, INSTANCE, [randomBytes(32)]).load(SERVICE),
      ).toMatchObject({ kind: 'invalid', reason: /HMAC/ });
    });

    it('refuses a previous key shorter than 16 bytes, naming the option', () => {
      expect(() => new LastKnownGoodStore(path, key, INSTANCE, [randomBytes(15)])).toThrow(
        /lkgPreviousHmacKeys\[0\]/,
      );
    });
  });

  describe('earlier formats (1 and 2)', () => {
    beforeEach(async () => sut.save(envelopeBytes(1), SERVICE)); // creates the directory

    it('reads a format 1 file exactly as the SDK wrote it before format 2', async () => {
      writeFile(formatOneFile(key, envelopeBytes(6)));

      expect(await sut.load(SERVICE)).toEqual({
        kind: 'ok',
        envelopeBytes: envelopeBytes(6),
        savedAt: '2026-11-21T20:00:00.000Z',
        format: 1,
        underPreviousKey: false,
      });
    });

    it('reads a format 2 file, and rewrites it as format 3 on the next save', async () => {
      writeFile(formatTwoFile(key, envelopeBytes(6), schemaEnvelopeBytes(2)));

      const loaded = await sut.load(SERVICE);
      expect(loaded).toEqual({
        kind: 'ok',
        envelopeBytes: envelopeBytes(6),
        schemaEnvelopeBytes: schemaEnvelopeBytes(2),
        savedAt: '2026-11-21T20:00:00.000Z',
        format: 2,
        underPreviousKey: false,
      });
      await sut.save(envelopeBytes(6), SERVICE, schemaEnvelopeBytes(2));
      expect(readFile()).toMatchObject({ format: 3, instanceId: INSTANCE });
      expect(await sut.load(SERVICE)).toMatchObject({
        kind: 'ok',
        format: 3,
        schemaEnvelopeBytes: schemaEnvelopeBytes(2),
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
        'format 2 without its schema envelope',
        ({ schemaEnvelope: _schema, ...rest }) => rest,
        /lacks the schema envelope/,
      ],
      [
        'bad base64 in the schema envelope',
        (file) => ({ ...file, schemaEnvelope: '!!' }),
        /base64/,
      ],
    ])('refuses a format 2 file with %s', async (_case, change, reason) => {
      writeFile(change(formatTwoFile(key, envelopeBytes(3), schemaEnvelopeBytes(2))));

      expect(await sut.load(SERVICE)).toMatchObject({ kind: 'invalid', reason });
    });
  });

  describe('with the signed schema', () => {
    it('saves the schema envelope beside the config envelope and loads both back', async () => {
      await sut.save(envelopeBytes(3), SERVICE, schemaEnvelopeBytes(2));

      expect(await sut.load(SERVICE)).toEqual({
        kind: 'ok',
        envelopeBytes: envelopeBytes(3),
        schemaEnvelopeBytes: schemaEnvelopeBytes(2),
        savedAt: expect.any(String),
        format: 3,
        underPreviousKey: false,
      });
      expect(readFile()).toMatchObject({
        format: 3,
        schemaEnvelope: schemaEnvelopeBytes(2).toString('base64'),
      });
    });

    it.each<[string, (file: LastKnownGoodFile) => unknown]>([
      [
        'a changed schema envelope',
        (file) => ({ ...file, schemaEnvelope: schemaEnvelopeBytes(9).toString('base64') }),
      ],
      ['the schema envelope removed', ({ schemaEnvelope: _schema, ...rest }) => rest],
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
      ],
    ])('refuses %s', async (_case, change) => {
      await sut.save(envelopeBytes(3), SERVICE, schemaEnvelopeBytes(2));
      writeFile(change(readFile()));

      expect(await sut.load(SERVICE)).toMatchObject({ kind: 'invalid', reason: /HMAC/ });
    });
  });

  it('without an instance id (a tool), reads any instance and writes for the one it read', async () => {
    await sut.save(envelopeBytes(3), SERVICE);
    const tool = new LastKnownGoodStore(path, key);

    expect(await tool.load(SERVICE)).toMatchObject({ kind: 'ok', format: 3 });
    await tool.save(envelopeBytes(4), SERVICE);
    expect(await sut.load(SERVICE)).toMatchObject({ kind: 'ok', envelopeBytes: envelopeBytes(4) });
    await expect(new LastKnownGoodStore(path, key).save(envelopeBytes(5), SERVICE)).rejects.toThrow(
      /instanceId/,
    );
  });

  it('refuses an HMAC key shorter than 16 bytes', () => {
    expect(() => new LastKnownGoodStore(path, randomBytes(15), INSTANCE)).toThrow(
      ConfigClientError,
    );
    expect(() => new LastKnownGoodStore(path, randomBytes(15), INSTANCE)).toThrow(/lkgHmacKey/);
  });
});
