import {
  MAX_DELTA_DEPTH,
  decodeSnapshot,
  encodeSnapshot,
  encodeSnapshotDelta,
  snapshotBase,
  snapshotBytes,
  snapshotJson,
} from './snapshot-codec';
import type { Snapshot } from './config-state';

const snapshotFactory = (threshold: number): Snapshot => ({
  config: {
    thresholds: { high: 0.75, low: threshold },
    title: { primary_weight: 0.7, secondary_weight: 0.3, blend_lower: 0.4, blend_upper: 0.8 },
    canonical: { field_strategies: { title: 'longest_non_generic', description: 'longest' } },
  },
  secrets: { 'ai.api_key': { set: false, updatedAt: null } },
});

describe(encodeSnapshot.name, () => {
  it('round-trips a first version without a dictionary', () => {
    const first = snapshotFactory(0.35);
    const blob = encodeSnapshot(first);
    expect(decodeSnapshot(blob, () => Buffer.alloc(0))).toEqual(first);
  });

  it('stores a later version smaller with the first version as dictionary, and reads it back', () => {
    const firstBlob = encodeSnapshot(snapshotFactory(0.35));
    const dictionary = snapshotBytes(firstBlob, () => Buffer.alloc(0));
    const later = snapshotFactory(0.4);

    const withDictionary = encodeSnapshot(later, dictionary);

    expect(withDictionary.length).toBeLessThan(encodeSnapshot(later).length / 2);
    expect(decodeSnapshot(withDictionary, () => dictionary)).toEqual(later);
  });

  it('refuses an unknown encoding instead of guessing', () => {
    expect(() => decodeSnapshot(Buffer.from([9, 1, 2]), () => Buffer.alloc(0))).toThrow(
      'unknown snapshot encoding 9',
    );
  });

  it('stores a version deflated against its base in a few dozen bytes, names the base, and reads it back', () => {
    const base = { version: 300, json: snapshotJson(snapshotFactory(0.35)), depth: 4 };
    const later = snapshotFactory(0.36);

    const delta = encodeSnapshotDelta(snapshotJson(later), base);

    expect(delta.length).toBeLessThan(40);
    expect(delta.length).toBeLessThan(encodeSnapshot(later).length / 4);
    expect(snapshotBase(delta)).toEqual({ version: 300, depth: 5 });
    expect(decodeSnapshot(delta, () => base.json)).toEqual(later);
    expect(snapshotBytes(delta, () => base.json)).toEqual(snapshotJson(later));
  });

  it('names no base for self-contained rows', () => {
    const first = encodeSnapshot(snapshotFactory(0.35));
    expect(snapshotBase(first)).toBeUndefined();
    expect(
      snapshotBase(encodeSnapshot(snapshotFactory(0.4), snapshotJson(snapshotFactory(0.35)))),
    ).toBeUndefined();
  });

  it('refuses a chain longer than MAX_DELTA_DEPTH', () => {
    const base = { version: 7, json: snapshotJson(snapshotFactory(0.35)), depth: MAX_DELTA_DEPTH };
    expect(() => encodeSnapshotDelta(snapshotJson(snapshotFactory(0.4)), base)).toThrow(
      'delta depth',
    );
  });

  it.each([1, 127, 128, 16384, 2 ** 31 + 5])(
    'round-trips base version %d in the header',
    (version) => {
      const base = { version, json: snapshotJson(snapshotFactory(0.35)), depth: 0 };
      const delta = encodeSnapshotDelta(snapshotJson(snapshotFactory(0.4)), base);
      expect(snapshotBase(delta)).toEqual({ version, depth: 1 });
      expect(decodeSnapshot(delta, () => base.json)).toEqual(snapshotFactory(0.4));
    },
  );
});
