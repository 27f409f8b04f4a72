import { randomBytes } from 'node:crypto';
import {
  close as fsClose,
  fdatasync,
  fsync,
  open as fsOpen,
  rename as fsRename,
  write as fsWrite,
} from 'node:fs';
import { mkdir, readFile, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isPlainObject } from '@app/contracts';
import { decodeStrictBase64, hmacSha256, verifyHmacSha256 } from '@app/crypto';
import { ConfigClientError, ConfigClientErrorCode } from './config-client.error';

/**
 * Version of the last-known-good file layout this SDK writes. Format 3 binds the instance id
 * and `savedAt` into the HMAC beside the format, the service and both envelopes (the schema
 * envelope empty when absent), each with its length, so another instance's file or an edited
 * `savedAt` does not check. Formats 1 and 2 (earlier SDKs) are still read, and rewritten as 3
 * on the next accepted version or attestation. The byte layout: libs/config-client/README.md.
 */
export const LKG_FORMAT = 3;

/** Format 2 (earlier SDKs): a config envelope and the signed schema envelope; read, never written. */
export const LKG_FORMAT_WITH_SCHEMA = 2;

/** Format 1 (earlier SDKs): a config envelope only; read, never written. */
export const LKG_FORMAT_CONFIG_ONLY = 1;

/** The formats a last-known-good file may have. */
export type LastKnownGoodFormat =
  typeof LKG_FORMAT_CONFIG_ONLY | typeof LKG_FORMAT_WITH_SCHEMA | typeof LKG_FORMAT;

/** Shortest accepted HMAC key for the last-known-good file (16 bytes). */
export const MIN_LKG_HMAC_KEY_BYTES = 16;

/**
 * What a last-known-good file holds: the signed envelope as received (and the signed schema
 * envelope it was validated with, for a client without its own schema), who saved it, and a MAC.
 */
export interface LastKnownGoodFile {
  format: LastKnownGoodFormat;
  service: string;
  /** Format 3: the instance that saved it (bound by the HMAC). */
  instanceId?: string;
  /** When it was saved (format 3: bound by the HMAC, as the exact text written). */
  savedAt: string;
  /** Standard base64 of the raw envelope bytes (its secrets are still sealed). */
  envelope: string;
  /** Format 2, and format 3 when there is one: standard base64 of the raw schema envelope bytes. */
  schemaEnvelope?: string;
  /** Standard base64 of the HMAC-SHA256 over the domain-separated, length-prefixed fields. */
  hmac: string;
}

/** The outcome of reading the file; `ok` bytes must still pass the full envelope verification. */
export type LastKnownGoodLoad =
  | { readonly kind: 'missing' }
  | { readonly kind: 'invalid'; readonly reason: string }
  | {
      readonly kind: 'ok';
      readonly envelopeBytes: Buffer;
      /** The signed schema envelope saved beside it, to verify as well. */
      readonly schemaEnvelopeBytes?: Buffer;
      readonly savedAt: string;
      /** The file's format: below LKG_FORMAT, it is rewritten by the next save. */
      readonly format: LastKnownGoodFormat;
      /** It checked only under one of the previous HMAC keys: the caller rewrites it at once. */
      readonly underPreviousKey: boolean;
    };

/** What the HMAC of a file covers (LKG file fields, decoded). */
export interface LastKnownGoodMacFields {
  readonly format: LastKnownGoodFormat;
  readonly service: string;
  /** Format 3 only. */
  readonly instanceId?: string;
  /** Format 3 only: the exact `savedAt` text of the file. */
  readonly savedAt?: string;
  readonly envelope: Buffer;
  /** Format 2 (required) and 3 (empty when absent). */
  readonly schemaEnvelope?: Buffer;
}

/** What the reader of a file expects: its service and instance, and the keys it may check under. */
export interface LastKnownGoodExpectation {
  readonly service: string;
  readonly instanceId: string;
  /** The current key first, then the previous ones (LKG_HMAC_KEYS_PREVIOUS). */
  readonly keys: readonly Buffer[];
}

// Distinguishes this MAC from any other use of the same key; lengths make the fields unambiguous.
const HMAC_DOMAIN = Buffer.from('config-centre/last-known-good\0', 'utf8');
const HMAC_BYTES = 32;
// Two 256 KiB envelopes are ~700 KiB in base64; anything far larger is not a file we wrote.
const MAX_FILE_BYTES = 4 * 1024 * 1024;

/**
 * The bytes the HMAC of a file is computed over (documented byte by byte in
 * libs/config-client/README.md; the Python client builds the same). Every format starts with
 * the domain, the format (u32 big-endian), the service's length (u32) and its UTF-8 bytes.
 * Format 1 then has the envelope; format 2 the envelope's length, the envelope and the schema
 * envelope; format 3 the instance id, `savedAt`, the envelope and the schema envelope, each as
 * its length (u32) and its bytes.
 */
export function lastKnownGoodMacInput(fields: LastKnownGoodMacFields): Buffer {
  const service = Buffer.from(fields.service, 'utf8');
  const head = Buffer.concat([HMAC_DOMAIN, u32(fields.format), u32(service.length), service]);
  switch (fields.format) {
    case LKG_FORMAT_CONFIG_ONLY:
      return Buffer.concat([head, fields.envelope]);
    case LKG_FORMAT_WITH_SCHEMA:
      return Buffer.concat([
        head,
        u32(fields.envelope.length),
        fields.envelope,
        fields.schemaEnvelope ?? Buffer.alloc(0),
      ]);
    case LKG_FORMAT:
      return Buffer.concat([
        head,
        lengthPrefixed(Buffer.from(fields.instanceId ?? '', 'utf8')),
        lengthPrefixed(Buffer.from(fields.savedAt ?? '', 'utf8')),
        lengthPrefixed(fields.envelope),
        lengthPrefixed(fields.schemaEnvelope ?? Buffer.alloc(0)),
      ]);
  }
}

/** A format-3 file for the given content, MACed under `key` (pure; the store writes it). */
export function sealLastKnownGood(input: {
  readonly key: Buffer;
  readonly service: string;
  readonly instanceId: string;
  readonly savedAt: string;
  readonly envelope: Buffer;
  readonly schemaEnvelope?: Buffer;
}): LastKnownGoodFile {
  const schema =
    input.schemaEnvelope === undefined || input.schemaEnvelope.length === 0
      ? undefined
      : input.schemaEnvelope;
  const hmac = hmacSha256(
    input.key,
    lastKnownGoodMacInput({
      format: LKG_FORMAT,
      service: input.service,
      instanceId: input.instanceId,
      savedAt: input.savedAt,
      envelope: input.envelope,
      schemaEnvelope: schema,
    }),
  );
  return {
    format: LKG_FORMAT,
    service: input.service,
    instanceId: input.instanceId,
    savedAt: input.savedAt,
    envelope: input.envelope.toString('base64'),
    ...(schema === undefined ? {} : { schemaEnvelope: schema.toString('base64') }),
    hmac: hmac.toString('base64'),
  };
}

/**
 * Reads a parsed file (format 1, 2 or 3) for `expect`: invalid (with a reason naming no content)
 * or its envelope bytes, tried under the current key, then each previous one. Pure; never throws.
 */
export function openLastKnownGood(
  parsed: unknown,
  expect: LastKnownGoodExpectation,
): LastKnownGoodLoad {
  if (!isPlainObject(parsed)) {
    return invalid('is not a JSON object');
  }
  const { format, service, instanceId, savedAt, envelope, schemaEnvelope, hmac } = parsed;
  if (
    format !== LKG_FORMAT_CONFIG_ONLY &&
    format !== LKG_FORMAT_WITH_SCHEMA &&
    format !== LKG_FORMAT
  ) {
    return invalid(`has an unknown format (expected ${LKG_FORMAT_CONFIG_ONLY} to ${LKG_FORMAT})`);
  }
  if (service !== expect.service) {
    return invalid(`is for another service, not ${expect.service}`);
  }
  if (typeof savedAt !== 'string' || typeof envelope !== 'string' || typeof hmac !== 'string') {
    return invalid('lacks savedAt, envelope or hmac');
  }
  if (format === LKG_FORMAT && instanceId !== expect.instanceId) {
    return invalid(
      typeof instanceId === 'string'
        ? `was saved by another instance, not ${expect.instanceId} (copied from another worker?)`
        : `lacks the instanceId of format ${LKG_FORMAT}`,
    );
  }
  if (format === LKG_FORMAT_WITH_SCHEMA && typeof schemaEnvelope !== 'string') {
    return invalid(`lacks the schema envelope of format ${LKG_FORMAT_WITH_SCHEMA}`);
  }
  if (format === LKG_FORMAT && schemaEnvelope !== undefined && typeof schemaEnvelope !== 'string') {
    return invalid('has a schema envelope that is not a string');
  }
  const envelopeBytes = decodeStrictBase64(envelope);
  const schemaBytes =
    typeof schemaEnvelope === 'string' && format !== LKG_FORMAT_CONFIG_ONLY
      ? decodeStrictBase64(schemaEnvelope)
      : Buffer.alloc(0);
  const mac = decodeStrictBase64(hmac);
  if (
    envelopeBytes === undefined ||
    schemaBytes === undefined ||
    mac === undefined ||
    mac.length !== HMAC_BYTES
  ) {
    return invalid('has an envelope or hmac that is not valid base64');
  }
  const input = lastKnownGoodMacInput({
    format,
    service: expect.service,
    instanceId: expect.instanceId,
    savedAt,
    envelope: envelopeBytes,
    schemaEnvelope: schemaBytes,
  });
  const index = expect.keys.findIndex((key) => verifyHmacSha256(key, input, mac));
  if (index < 0) {
    return invalid(
      format === LKG_FORMAT
        ? 'fails its HMAC check (tampered, savedAt edited, or written with another LKG_HMAC_KEY)'
        : 'fails its HMAC check (tampered, or written with another LKG_HMAC_KEY)',
    );
  }
  return {
    kind: 'ok',
    envelopeBytes,
    ...(schemaBytes.length === 0 ? {} : { schemaEnvelopeBytes: schemaBytes }),
    savedAt,
    format,
    underPreviousKey: index > 0,
  };
}

/**
 * The worker's last-known-good copy of its newest accepted envelope (and of the signed schema
 * it was validated with, for a client without its own), so it starts (and refuses replays of
 * older versions) while the manager or broker is down. The HMAC only says "this process family
 * wrote it"; the signatures are what make the content trustworthy, so callers re-verify the
 * loaded envelopes in full.
 */
export class LastKnownGoodStore {
  private readonly hmacKey: Buffer;
  private readonly previousHmacKeys: readonly Buffer[];
  // Saves run one after another so an older version can never be renamed over a newer one.
  private queue: Promise<void> = Promise.resolve();
  private directoryReady: Promise<void> | undefined;
  // A store without its own instance id: the instance of the file it last read.
  private readonly fixedInstance: boolean;

  /**
   * `instanceId` is bound into every file written, and a format-3 file of another instance is
   * refused. Without one (a tool that inspects any instance's file) the store reads a format-3
   * file for the instance it names (the HMAC still binds it) and writes for the instance of the
   * file it last read. `previousHmacKeys` (LKG_HMAC_KEYS_PREVIOUS) are tried when a file does
   * not check under `hmacKey`, during a rotation.
   */
  constructor(
    readonly path: string,
    hmacKey: Buffer,
    private instanceId?: string,
    previousHmacKeys: readonly Buffer[] = [],
  ) {
    if (hmacKey.length < MIN_LKG_HMAC_KEY_BYTES) {
      throw new ConfigClientError(
        ConfigClientErrorCode.InvalidOption,
        `lkgHmacKey must be at least ${MIN_LKG_HMAC_KEY_BYTES} bytes (got ${hmacKey.length})`,
        ['lkgHmacKey'],
      );
    }
    const short = previousHmacKeys.findIndex((key) => key.length < MIN_LKG_HMAC_KEY_BYTES);
    if (short >= 0) {
      throw new ConfigClientError(
        ConfigClientErrorCode.InvalidOption,
        `lkgPreviousHmacKeys[${short}] must be at least ${MIN_LKG_HMAC_KEY_BYTES} bytes (got ${previousHmacKeys[short].length})`,
        ['lkgPreviousHmacKeys'],
      );
    }
    this.fixedInstance = instanceId !== undefined;
    this.hmacKey = Buffer.from(hmacKey);
    this.previousHmacKeys = previousHmacKeys.map((key) => Buffer.from(key));
  }

  /**
   * Atomically replaces the file (format 3, under the current key) with `envelopeBytes` and,
   * when given, the signed schema envelope it was validated with (temp file, fsync, rename; mode 0600).
   */
  save(envelopeBytes: Buffer, service: string, schemaEnvelopeBytes?: Buffer): Promise<void> {
    const schema = schemaEnvelopeBytes === undefined ? undefined : Buffer.from(schemaEnvelopeBytes);
    const next = this.queue.then(() => this.write(Buffer.from(envelopeBytes), service, schema));
    // The queue continues after a failure; the caller still sees this save's own error.
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Reads the file for `service` and this instance (format 1, 2 or 3): missing, invalid (with a reason naming no content) or the envelope bytes. */
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
    const named = isPlainObject(parsed) ? parsed.instanceId : undefined;
    const instanceId = this.fixedInstance ? this.instanceId : named;
    const loaded = openLastKnownGood(parsed, {
      service,
      instanceId: typeof instanceId === 'string' ? instanceId : '',
      keys: [this.hmacKey, ...this.previousHmacKeys],
    });
    if (!this.fixedInstance && loaded.kind === 'ok' && typeof named === 'string') {
      this.instanceId = named;
    }
    return loaded;
  }

  private async write(
    envelopeBytes: Buffer,
    service: string,
    schemaBytes: Buffer | undefined,
  ): Promise<void> {
    if (this.instanceId === undefined) {
      throw new ConfigClientError(
        ConfigClientErrorCode.InvalidOption,
        'a last-known-good store without an instanceId writes only after reading a format-3 file',
        ['instanceId'],
      );
    }
    const file = sealLastKnownGood({
      key: this.hmacKey,
      service,
      instanceId: this.instanceId,
      savedAt: new Date().toISOString(),
      envelope: envelopeBytes,
      schemaEnvelope: schemaBytes,
    });
    // Once per store: a mkdir per save is measurable when a process hosts many clients.
    const directory = dirname(this.path);
    this.directoryReady ??= mkdir(directory, { recursive: true, mode: 0o700 }).then(
      () => undefined,
    );
    await this.directoryReady;
    // Unique without a random draw per save: this process's random tag and a counter ('wx'
    // still refuses a name that exists).
    tempCounter += 1;
    const temp = `${this.path}.tmp-${process.pid}-${TEMP_TAG}-${tempCounter}`;
    const bytes = Buffer.from(JSON.stringify(file) + '\n', 'utf8');
    try {
      // Callback fs, not FileHandles: the same system calls for less JavaScript per save.
      const fd = await fsCall<number>((done) => fsOpen(temp, 'wx', 0o600, done));
      try {
        await writeAll(fd, bytes);
        // Durable before it becomes visible: a crash leaves the old file or the new, never half.
        await fsCall((done) => fdatasync(fd, done));
      } finally {
        await fsCall((done) => fsClose(fd, done));
      }
      await fsCall((done) => fsRename(temp, this.path, done));
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw error;
    }
    await syncDirectory(directory);
  }
}

// The temp file names of this process: a random tag drawn once, then a counter.
const TEMP_TAG = randomBytes(4).toString('hex');
let tempCounter = 0;

function fsCall<R = void>(
  call: (done: (error: Error | null, result?: R) => void) => void,
): Promise<R> {
  return new Promise((resolve, reject) => {
    call((error, result) => (error ? reject(error) : resolve(result as R)));
  });
}

async function writeAll(fd: number, bytes: Buffer): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    offset += await fsCall<number>((done) =>
      fsWrite(fd, bytes, offset, bytes.length - offset, offset, done),
    );
  }
}

function u32(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value, 0);
  return bytes;
}

function lengthPrefixed(bytes: Buffer): Buffer {
  return Buffer.concat([u32(bytes.length), bytes]);
}

function invalid(reason: string): LastKnownGoodLoad {
  return { kind: 'invalid', reason };
}

// Makes the rename itself durable; some platforms cannot open a directory, which only costs durability.
async function syncDirectory(directory: string): Promise<void> {
  let fd: number;
  try {
    fd = await fsCall<number>((done) => fsOpen(directory, 'r', done));
  } catch {
    return;
  }
  try {
    await fsCall((done) => fsync(fd, done));
  } catch {
    // Best effort by design (see above).
  } finally {
    await fsCall((done) => fsClose(fd, done)).catch(() => undefined);
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
