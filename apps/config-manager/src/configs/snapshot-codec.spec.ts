import { decodeSnapshot, encodeSnapshot, snapshotBytes } from './snapshot-codec';
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
});
