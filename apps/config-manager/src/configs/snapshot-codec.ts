import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Snapshot } from './config-state';

// First byte of a stored snapshot tells how to read the rest.
const PLAIN_DEFLATE = 1;
const DEFLATE_WITH_DICTIONARY = 2;
const DEFLATE_WITH_BASE = 3;

/** The longest chain of versions deflated against the one before (a read inflates at most this many + 1). */
export const MAX_DELTA_DEPTH = 32;

const DEFLATE_OPTIONS = { level: constants.Z_BEST_COMPRESSION, memLevel: 9 };

/**
 * Encodes a snapshot compactly. Later versions of a service differ from its first version in a
 * few values, so deflating with the first version's JSON as a preset dictionary stores them in a
 * few hundred bytes at most (encoding 2). The first version is immutable, so the dictionary never
 * changes under old rows.
 */
export function encodeSnapshot(snapshot: Snapshot, dictionary?: Buffer): Buffer {
  return encodeSnapshotJson(snapshotJson(snapshot), dictionary);
}

/** The JSON bytes a snapshot is stored as (what decoding gives back). */
export function snapshotJson(snapshot: Snapshot): Buffer {
  return Buffer.from(JSON.stringify(snapshot));
}

/** encodeSnapshot of JSON bytes already made by snapshotJson. */
export function encodeSnapshotJson(json: Buffer, dictionary?: Buffer): Buffer {
  if (!dictionary) {
    return Buffer.concat([Buffer.from([PLAIN_DEFLATE]), deflateRawSync(json, DEFLATE_OPTIONS)]);
  }
  return Buffer.concat([
    Buffer.from([DEFLATE_WITH_DICTIONARY]),
    deflateRawSync(json, { ...DEFLATE_OPTIONS, dictionary }),
  ]);
}

/** A stored version a later one is deflated against: its number, JSON bytes and chain depth. */
export interface SnapshotBase {
  version: number;
  json: Buffer;
  /** 0 for a self-contained row (encodings 1 and 2), else its own base's depth + 1. */
  depth: number;
}

/**
 * Encoding 3: the JSON deflated with the JSON of an earlier version of the same service (its
 * base, usually the version just before) as dictionary. Consecutive versions differ in one or
 * two values, so this takes a few dozen bytes where encoding 2 takes a hundred and more once the
 * config has drifted from the first version. Layout: [3][depth][base version, varint][deflate].
 * The chain of bases is at most MAX_DELTA_DEPTH long (the writer starts a self-contained row
 * then), so a read inflates a bounded number of rows.
 */
export function encodeSnapshotDelta(json: Buffer, base: SnapshotBase): Buffer {
  const depth = base.depth + 1;
  if (depth > MAX_DELTA_DEPTH) throw new Error(`delta depth ${depth} above ${MAX_DELTA_DEPTH}`);
  return Buffer.concat([
    Buffer.from([DEFLATE_WITH_BASE, depth]),
    writeVarint(base.version),
    deflateRawSync(json, { ...DEFLATE_OPTIONS, dictionary: base.json }),
  ]);
}

/** Which stored version a row of encoding 3 needs first (undefined for encodings 1 and 2). */
export function snapshotBase(blob: Buffer): { version: number; depth: number } | undefined {
  if (blob[0] !== DEFLATE_WITH_BASE) return undefined;
  return { version: readVarint(blob, 2).value, depth: blob[1] };
}

/** Whether reading `blob` needs the service's dictionary (so a caller can load it first). */
export function needsDictionary(blob: Buffer): boolean {
  return blob[0] === DEFLATE_WITH_DICTIONARY;
}

/**
 * The uncompressed JSON bytes of a stored snapshot (the dictionary for later versions, for v1).
 * `dictionary` is called for encoding 2 (the first version's JSON) and encoding 3 (the base's JSON).
 */
export function snapshotBytes(blob: Buffer, dictionary: () => Buffer): Buffer {
  switch (blob[0]) {
    case PLAIN_DEFLATE:
      return inflateRawSync(blob.subarray(1));
    case DEFLATE_WITH_DICTIONARY:
      return inflateRawSync(blob.subarray(1), { dictionary: dictionary() });
    case DEFLATE_WITH_BASE: {
      const { next } = readVarint(blob, 2);
      return inflateRawSync(blob.subarray(next), { dictionary: dictionary() });
    }
    default:
      throw new Error(`unknown snapshot encoding ${String(blob[0])}`);
  }
}

/** Decodes a stored snapshot; `dictionary` is only called for dictionary-encoded rows. */
export function decodeSnapshot(blob: Buffer, dictionary: () => Buffer): Snapshot {
  return JSON.parse(snapshotBytes(blob, dictionary).toString('utf8')) as Snapshot;
}

function writeVarint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

function readVarint(blob: Buffer, offset: number): { value: number; next: number } {
  let value = 0;
  let scale = 1;
  for (let i = offset; i < blob.length && i < offset + 8; i++) {
    const byte = blob[i];
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return { value, next: i + 1 };
    scale *= 0x80;
  }
  throw new Error('truncated snapshot header');
}
