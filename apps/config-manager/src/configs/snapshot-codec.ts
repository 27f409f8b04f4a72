import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Snapshot } from './config-state';

// First byte of a stored snapshot tells how to read the rest.
const PLAIN_DEFLATE = 1;
const DEFLATE_WITH_DICTIONARY = 2;

const DEFLATE_OPTIONS = { level: constants.Z_BEST_COMPRESSION, memLevel: 9 };

/**
 * Encodes a snapshot compactly. Later versions of a service differ from its first version in a
 * few values, so deflating with the first version's JSON as a preset dictionary stores most
 * versions in well under 200 bytes (10,000 versions of a full MatchingConfig stay far below
 * 10 MB). The first version is immutable, so the dictionary never changes under old rows.
 */
export function encodeSnapshot(snapshot: Snapshot, dictionary?: Buffer): Buffer {
  const json = Buffer.from(JSON.stringify(snapshot));
  if (!dictionary) {
    return Buffer.concat([Buffer.from([PLAIN_DEFLATE]), deflateRawSync(json, DEFLATE_OPTIONS)]);
  }
  return Buffer.concat([
    Buffer.from([DEFLATE_WITH_DICTIONARY]),
    deflateRawSync(json, { ...DEFLATE_OPTIONS, dictionary }),
  ]);
}

/** Whether reading `blob` needs the service's dictionary (so a caller can load it first). */
export function needsDictionary(blob: Buffer): boolean {
  return blob[0] === DEFLATE_WITH_DICTIONARY;
}

/** The uncompressed JSON bytes of a stored snapshot (the dictionary for later versions, for v1). */
export function snapshotBytes(blob: Buffer, dictionary: () => Buffer): Buffer {
  switch (blob[0]) {
    case PLAIN_DEFLATE:
      return inflateRawSync(blob.subarray(1));
    case DEFLATE_WITH_DICTIONARY:
      return inflateRawSync(blob.subarray(1), { dictionary: dictionary() });
    default:
      throw new Error(`unknown snapshot encoding ${String(blob[0])}`);
  }
}

/** Decodes a stored snapshot; `dictionary` is only called for dictionary-encoded rows. */
export function decodeSnapshot(blob: Buffer, dictionary: () => Buffer): Snapshot {
  return JSON.parse(snapshotBytes(blob, dictionary).toString('utf8')) as Snapshot;
}
