import {
  diceSimilarity,
  diceSimilaritySorted,
  haversineKm,
  levenshteinRatio,
  normaliseText,
  tokenSet,
} from './similarity';

describe(normaliseText.name, () => {
  it('lower-cases, strips accents and punctuation and collapses spaces', () => {
    expect(normaliseText('  Café-Concert:  Élodie & Friends!! ')).toBe(
      'cafe concert elodie friends',
    );
  });

  it('keeps letters of any script', () => {
    expect(normaliseText('Konzert – Łódź 東京')).toBe('konzert łodz 東京');
  });
});

describe(diceSimilarity.name, () => {
  it('ignores word order and repeated words', () => {
    expect(
      diceSimilarity(tokenSet('jazz night blue note'), tokenSet('blue note jazz night jazz')),
    ).toBe(1);
  });

  it('is 2·shared / total words', () => {
    expect(diceSimilarity(tokenSet('a b c d'), tokenSet('a b x'))).toBeCloseTo((2 * 2) / 7);
  });

  it('is 0 for two empty sets', () => {
    expect(diceSimilarity(new Set(), new Set())).toBe(0);
  });
});

describe(diceSimilaritySorted.name, () => {
  it('agrees with the set version on id lists', () => {
    expect(diceSimilaritySorted([1, 2, 3, 4], [1, 2, 9])).toBeCloseTo((2 * 2) / 7);
    expect(diceSimilaritySorted([], [])).toBe(0);
  });
});

describe(levenshteinRatio.name, () => {
  it('is 1 minus edits over the longer length', () => {
    // "concert" → "concret" is two substitutions over 26 characters.
    expect(
      levenshteinRatio('nils frahm live in concert', 'nils frahm live in concret'),
    ).toBeCloseTo(1 - 2 / 26);
    expect(levenshteinRatio('', '')).toBe(1);
  });
});

describe(haversineKm.name, () => {
  it('gives the distance from Berlin to Hamburg', () => {
    expect(haversineKm(52.52, 13.405, 53.5511, 9.9937)).toBeGreaterThan(253);
    expect(haversineKm(52.52, 13.405, 53.5511, 9.9937)).toBeLessThan(257);
  });

  it('is 0 for the same point', () => {
    expect(haversineKm(52.52, 13.405, 52.52, 13.405)).toBe(0);
  });
});
