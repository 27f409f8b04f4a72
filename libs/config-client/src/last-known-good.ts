import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isPlainObject } from '@app/contracts';
import { decodeStrictBase64, hmacSha256, verifyHmacSha256 } from '@app/crypto';
import { ConfigClientError, ConfigClientErrorCode } from './config-client.error';

/**
 * Version of the last-known-good file layout: 2 adds the signed schema envelope beside the
 * config envelope (clients that validate with the manager's schema). A file without a schema
 * is still written as format 1, which every version of the SDK reads; both are read.
 */
export const LKG_FORMAT = 2;

/** The layout of files that hold a config envelope only. */
export const LKG_FORMAT_CONFIG_ONLY = 1;

/** Shortest accepted HMAC key for the last-known-good file (16 bytes). */
export const MIN_LKG_HMAC_KEY_BYTES = 16;

/**
 * What a last-known-good file holds: the signed envelope as received (and, in format 2, the
 * signed schema envelope it was validated with), and a MAC over them.
 */
export interface LastKnownGoodFile {
  format: typeof LKG_FORMAT_CONFIG_ONLY | typeof LKG_FORMAT;
  service: string;
  savedAt: string;
  /** Standard base64 of the raw envelope bytes (its secrets are still sealed). */
  envelope: string;
  /** Format 2 only: standard base64 of the raw schema envelope bytes. */
  schemaEnvelope?: string;
  /** Standard base64 of the HMAC-SHA256 over the domain-separated format, service and envelopes. */
  hmac: string;
}

/** The outcome of reading the file; `ok` bytes must still pass the full envelope verification. */
export type LastKnownGoodLoad =
  | { readonly kind: 'missing' }
  | { readonly kind: 'invalid'; readonly reason: string }
  | {
      readonly kind: 'ok';
      readonly envelopeBytes: Buffer;
      /** The signed schema envelope saved beside it (format 2), to verify as well. */
      readonly schemaEnvelopeBytes?: Buffer;
      readonly savedAt: string;
    };

// Distinguishes this MAC from any other use of the same key; lengths make the fields unambiguous.
const HMAC_DOMAIN = Buffer.from('config-centre/last-known-good\0', 'utf8');
const HMAC_BYTES = 32;
// Two 256 KiB envelopes are ~700 KiB in base64; anything far larger is not a file we wrote.
const MAX_FILE_BYTES = 4 * 1024 * 1024;

/**
 * The worker's last-known-good copy of its newest accepted envelope (and of the signed schema
 * it was validated with, for a client without its own), so it starts (and refuses replays of
 * older versions) while the manager or broker is down. The HMAC only says "this process family
 * wrote it"; the signatures are what make the content trustworthy, so callers re-verify the
 * loaded envelopes in full.
 */
export class LastKnownGoodStore {
  private readonly hmacKey: Buffer;
  // Saves run one after another so an older version can never be renamed over a newer one.
  private queue: Promise<void> = Promise.resolve();
  private directoryReady: Promise<void> | undefined;

  constructor(
    readonly path: string,
    hmacKey: Buffer,
  ) {
    if (hmacKey.length < MIN_LKG_HMAC_KEY_BYTES) {
      throw new ConfigClientError(
        ConfigClientErrorCode.InvalidOption,
        `lkgHmacKey must be at least ${MIN_LKG_HMAC_KEY_BYTES} bytes (got ${hmacKey.length})`,
        ['lkgHmacKey'],
      );
    }
    this.hmacKey = Buffer.from(hmacKey);
  }

  /**
   * Atomically replaces the file with `envelopeBytes` and, when given, the signed schema envelope
   * it was validated with (temp file, fsync, rename; mode 0600).
   */
  save(envelopeBytes: Buffer, service: string, schemaEnvelopeBytes?: Buffer): Promise<void> {
    const schema = schemaEnvelopeBytes === undefined ? undefined : Buffer.from(schemaEnvelopeBytes);
    const next = this.queue.then(() => this.write(Buffer.from(envelopeBytes), service, schema));
    // The queue continues after a failure; the caller still sees this save's own error.
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Reads the file for `service` (format 1 or 2): missing, invalid (with a reason naming no content) or the envelope bytes. */
  async load(service: string): Promise<LastKnownGoodLoad> {
    let raw: Buffer;
    try {
      raw = await readFile(this.path);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') {
        return { kind: 'missing' };
      }
      return invalid(`cannot be read (${errnoCode(error) ?? 'unknown error'})`);
    }
    if (raw.length > MAX_FILE_BYTES) {
      return invalid(`is ${raw.length} bytes, larger than any file this client writes`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString('utf8'));
    } catch {
      return invalid('is not JSON (truncated or overwritten)');
    }
    if (!isPlainObject(parsed)) {
      return invalid('is not a JSON object');
    }
    const { format, service: fileService, savedAt, envelope, schemaEnvelope, hmac } = parsed;
    if (format !== LKG_FORMAT_CONFIG_ONLY && format !== LKG_FORMAT) {
      return invalid(`has an unknown format (expected ${LKG_FORMAT_CONFIG_ONLY} or ${LKG_FORMAT})`);
    }
    if (fileService !== service) {
      return invalid(`is for another service, not ${service}`);
    }
    if (typeof savedAt !== 'string' || typeof envelope !== 'string' || typeof hmac !== 'string') {
      return invalid('lacks savedAt, envelope or hmac');
    }
    if (format === LKG_FORMAT && typeof schemaEnvelope !== 'string') {
      return invalid(`lacks the schema envelope of format ${LKG_FORMAT}`);
    }
    const envelopeBytes = decodeStrictBase64(envelope);
    const schemaBytes =
      format === LKG_FORMAT ? decodeStrictBase64(schemaEnvelope as string) : undefined;
    const mac = decodeStrictBase64(hmac);
    if (
      envelopeBytes === undefined ||
      (format === LKG_FORMAT && schemaBytes === undefined) ||
      mac === undefined ||
      mac.length !== HMAC_BYTES
    ) {
      return invalid('has an envelope or hmac that is not valid base64');
    }
    if (!verifyHmacSha256(this.hmacKey, this.macInput(service, envelopeBytes, schemaBytes), mac)) {
      return invalid('fails its HMAC check (tampered, or written with another LKG_HMAC_KEY)');
    }
    return schemaBytes === undefined
      ? { kind: 'ok', envelopeBytes, savedAt }
      : { kind: 'ok', envelopeBytes, schemaEnvelopeBytes: schemaBytes, savedAt };
  }

  private async write(
    envelopeBytes: Buffer,
    service: string,
    schemaBytes: Buffer | undefined,
  ): Promise<void> {
    const hmac = hmacSha256(this.hmacKey, this.macInput(service, envelopeBytes, schemaBytes));
    const file: LastKnownGoodFile = {
      format: schemaBytes === undefined ? LKG_FORMAT_CONFIG_ONLY : LKG_FORMAT,
      service,
      savedAt: new Date().toISOString(),
      envelope: envelopeBytes.toString('base64'),
      ...(schemaBytes === undefined ? {} : { schemaEnvelope: schemaBytes.toString('base64') }),
      hmac: hmac.toString('base64'),
    };
    // Once per store: a mkdir per save is measurable when a process hosts many clients.
    this.directoryReady ??= mkdir(dirname(this.path), { recursive: true, mode: 0o700 }).then(
      () => undefined,
    );
    await this.directoryReady;
    const temp = `${this.path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
    try {
      const handle = await open(temp, 'wx', 0o600);
      try {
        await handle.writeFile(JSON.stringify(file) + '\n', 'utf8');
        // Durable before it becomes visible: a crash leaves the old file or the new, never half.
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, this.path);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw error;
    }
    await syncDirectory(dirname(this.path));
  }

  // Format 1: domain, format, service length, service, envelope. Format 2 puts the config
  // envelope's length before it and the schema envelope after it, so neither can be shifted
  // into the other; the format number keeps a file from being read as the other format.
  private macInput(service: string, envelopeBytes: Buffer, schemaBytes?: Buffer): Buffer {
    const serviceBytes = Buffer.from(service, 'utf8');
    const header = Buffer.alloc(8);
    header.writeUInt32BE(schemaBytes === undefined ? LKG_FORMAT_CONFIG_ONLY : LKG_FORMAT, 0);
    header.writeUInt32BE(serviceBytes.length, 4);
    if (schemaBytes === undefined) {
      return Buffer.concat([HMAC_DOMAIN, header, serviceBytes, envelopeBytes]);
    }
    const envelopeLength = Buffer.alloc(4);
    envelopeLength.writeUInt32BE(envelopeBytes.length, 0);
    return Buffer.concat([
      HMAC_DOMAIN,
      header,
      serviceBytes,
      envelopeLength,
      envelopeBytes,
      schemaBytes,
    ]);
  }
}

function invalid(reason: string): LastKnownGoodLoad {
  return { kind: 'invalid', reason };
}

// Makes the rename itself durable; some platforms cannot open a directory, which only costs durability.
async function syncDirectory(directory: string): Promise<void> {
  try {
    const handle = await open(directory, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Best effort by design (see above).
  }
}

// Not `instanceof Error`: errors from Node's fs may come from another realm (as under Jest).
function errnoCode(error: unknown): string | undefined {
  return typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    typeof error.code === 'string'
    ? error.code
    : undefined;
}
