import fc from 'fast-check';
import type { TitleSimilarityConfig } from '@app/contracts';
import type { SourceEvent } from './event';
import {
  classify,
  combinedTitleSimilarity,
  dateScore,
  descriptionScore,
  eventFeatures,
  geoScore,
  PairScorer,
  titleBlend,
  titleScore,
  type EventFeatures,
} from './scoring';
import { eventLocation, matchingConfig, sourceEvent } from './testing/matching.factories';

function features(a: SourceEvent, b: SourceEvent): [EventFeatures, EventFeatures] {
  const [left, right] = eventFeatures([a, b]);
  return [left, right];
}

function titleParams(overrides: Partial<TitleSimilarityConfig> = {}): TitleSimilarityConfig {
  const { primary_weight, secondary_weight, blend_lower, blend_upper } = matchingConfig().title;
  return { primary_weight, secondary_weight, blend_lower, blend_upper, ...overrides };
}

const typoPair = (): [EventFeatures, EventFeatures] =>
  features(
    sourceEvent({ title: 'Nils Frahm Live in Concert' }),
    sourceEvent({ source: 'guide', title: 'Nils Frahm: live in CONCRET' }),
  );

describe(dateScore.name, () => {
  const date = matchingConfig().date;

  it.each([
    [0, 1],
    [30, 1],
    [-31, 0.7],
    [90, 0.7],
    [91, 0.3],
    [24 * 60, 0.3],
    [24 * 60 + 1, 0],
  ])('scores starts %d minutes apart as %d with the defaults', (minutes, expected) => {
    expect(dateScore(minutes, date)).toBe(expected);
  });
});

describe(geoScore.name, () => {
  const geo = matchingConfig().geo;

  it('falls linearly with distance and reaches 0 at max_distance_km', () => {
    // 0.045° of latitude is 5.0 km.
    const here = eventLocation({ lat: 52.5, lon: 13.4 });
    expect(geoScore(here, here, geo)).toBe(1);
    expect(geoScore(here, eventLocation({ lat: 52.545, lon: 13.4 }), geo)).toBeCloseTo(0.5, 2);
    expect(geoScore(here, eventLocation({ lat: 53.5, lon: 13.4 }), geo)).toBe(0);
  });

  it('is neutral when a side is missing, has no coordinates or is not confidently geocoded', () => {
    const here = eventLocation();
    expect(geoScore(here, null, geo)).toBe(0.5);
    expect(geoScore(here, eventLocation({ lat: null }), geo)).toBe(0.5);
    expect(geoScore(here, eventLocation({ geo_confidence: 0.84 }), geo)).toBe(0.5);
    expect(geoScore(here, eventLocation({ geo_confidence: null }), geo)).toBe(0.5);
  });
});

describe(titleBlend.name, () => {
  it('damps weak similarity, lifts strong similarity and is linear in between', () => {
    const params = titleParams({ blend_lower: 0.4, blend_upper: 0.8 });
    expect(titleBlend(0, params)).toBe(0);
    expect(titleBlend(0.3, params)).toBeCloseTo(0.15); // 0.5 · 0.3
    expect(titleBlend(0.4, params)).toBeCloseTo(0.2); // 0.5 · L
    expect(titleBlend(0.6, params)).toBeCloseTo(0.55); // half-way from 0.2 to 0.9
    expect(titleBlend(0.8, params)).toBeCloseTo(0.9); // 1 − 0.5 · (1 − U)
    expect(titleBlend(0.9, params)).toBeCloseTo(0.95);
    expect(titleBlend(1, params)).toBe(1);
  });

  it('is monotone in the combined similarity for any valid bounds', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (x, y, l, u) => {
          const params = titleParams({ blend_lower: Math.min(l, u), blend_upper: Math.max(l, u) });
          const [low, high] = x <= y ? [x, y] : [y, x];
          const blendedLow = titleBlend(low, params);
          expect(blendedLow).toBeLessThanOrEqual(titleBlend(high, params) + 1e-12);
          expect(blendedLow).toBeGreaterThanOrEqual(0);
          expect(titleBlend(high, params)).toBeLessThanOrEqual(1);
        },
      ),
    );
  });

  it('never rises when either bound is raised', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (c, l, u, raise) => {
          const lower = Math.min(l, u);
          const upper = Math.max(l, u);
          const base = titleBlend(c, titleParams({ blend_lower: lower, blend_upper: upper }));
          const higherUpper = upper + (1 - upper) * raise;
          const higherLower = lower + (upper - lower) * raise;
          const tolerance = 1e-9;
          expect(
            titleBlend(c, titleParams({ blend_lower: lower, blend_upper: higherUpper })),
          ).toBeLessThanOrEqual(base + tolerance);
          expect(
            titleBlend(c, titleParams({ blend_lower: higherLower, blend_upper: upper })),
          ).toBeLessThanOrEqual(base + tolerance);
        },
      ),
    );
  });

  it('lowers a middling title score when blend_lower or blend_upper is raised', () => {
    expect(titleBlend(0.6, titleParams({ blend_lower: 0.5 }))).toBeLessThan(
      titleBlend(0.6, titleParams()),
    );
    expect(titleBlend(0.6, titleParams({ blend_upper: 0.9 }))).toBeLessThan(
      titleBlend(0.6, titleParams()),
    );
  });
});

describe(combinedTitleSimilarity.name, () => {
  it('is the weighted mean of word-set Dice and the Levenshtein ratio', () => {
    const [a, b] = typoPair();
    // Dice: 4 of 5 words shared = 0.8; Levenshtein: 2 edits in 26 characters.
    expect(combinedTitleSimilarity(a, b, titleParams())).toBeCloseTo(
      0.7 * 0.8 + 0.3 * (1 - 2 / 26),
    );
  });

  it('leans on the typo-tolerant secondary measure as secondary_weight grows', () => {
    const [a, b] = typoPair();
    const wordsOnly = combinedTitleSimilarity(
      a,
      b,
      titleParams({ primary_weight: 1, secondary_weight: 0 }),
    );
    const charsOnly = combinedTitleSimilarity(
      a,
      b,
      titleParams({ primary_weight: 0, secondary_weight: 1 }),
    );
    expect(wordsOnly).toBeCloseTo(0.8);
    expect(charsOnly).toBeGreaterThan(wordsOnly);
  });

  it('is robust to word order through the primary measure', () => {
    const [a, b] = features(
      sourceEvent({ title: 'Berlin Philharmonic: Mahler 5' }),
      sourceEvent({ title: 'Mahler 5 – Berlin Philharmonic' }),
    );
    const wordsOnly = combinedTitleSimilarity(
      a,
      b,
      titleParams({ primary_weight: 1, secondary_weight: 0 }),
    );
    expect(wordsOnly).toBe(1);
  });
});

describe(titleScore.name, () => {
  it('uses cross_source_type only for events of different source types', () => {
    const lenient = titleParams({ blend_lower: 0.1, blend_upper: 0.5 });
    const config = matchingConfig((c) => {
      c.title.cross_source_type = lenient;
    }).title;
    const [ticketing, editorial] = features(
      sourceEvent({ title: 'Jazz at the Lake' }),
      sourceEvent({ source: 'guide', source_type: 'editorial', title: 'Lakeside Jazz Evening' }),
    );
    const [, sameType] = features(
      sourceEvent({ title: 'Jazz at the Lake' }),
      sourceEvent({ source: 'guide', title: 'Lakeside Jazz Evening' }),
    );

    expect(titleScore(ticketing, editorial, config)).toBeGreaterThan(
      titleScore(ticketing, editorial, matchingConfig().title),
    );
    expect(titleScore(ticketing, sameType, config)).toBe(
      titleScore(ticketing, sameType, matchingConfig().title),
    );
  });
});

describe(descriptionScore.name, () => {
  it('compares descriptions, falling back to the short description, and is neutral without text', () => {
    const [full, shortOnly] = features(
      sourceEvent({ description: 'piano and synthesizers' }),
      sourceEvent({ description: '', short_description: 'Piano, and SYNTHESIZERS!' }),
    );
    const [none] = features(sourceEvent({ description: '', short_description: '' }), full.event);

    expect(descriptionScore(full, shortOnly)).toBe(1);
    expect(descriptionScore(none, full)).toBe(0.5);
  });
});

describe(classify.name, () => {
  it('puts totals at or above high in match, below low in no_match, the rest in ambiguous', () => {
    const thresholds = { high: 0.75, low: 0.35 };
    expect(classify(0.75, thresholds)).toBe('match');
    expect(classify(0.7499, thresholds)).toBe('ambiguous');
    expect(classify(0.35, thresholds)).toBe('ambiguous');
    expect(classify(0.3499, thresholds)).toBe('no_match');
  });
});

describe(PairScorer.name, () => {
  it('totals the weighted scores of a hand-checked pair', () => {
    const sut = new PairScorer(matchingConfig());
    const [a, b] = typoPair();

    const score = sut.score(a, b);

    // combined 0.836923 > 0.8, so title = 1 − 0.5 · (1 − 0.836923) = 0.918462.
    expect(score.title).toBeCloseTo(0.918462, 5);
    expect(score.total).toBeCloseTo(0.3 * 1 + 0.25 * 1 + 0.3 * 0.918462 + 0.15 * 1, 5);
    expect(score.classification).toBe('match');
  });

  it('uses the override of the first shared priority category that has one', () => {
    const film = { date: 0.1, geo: 0.1, title: 0.7, description: 0.1 };
    const outdoor = { date: 0.4, geo: 0.4, title: 0.1, description: 0.1 };
    const sut = new PairScorer(
      matchingConfig((c) => {
        c.category_weights.priority = ['Comedy', 'outdoor', 'Film'];
        c.category_weights.overrides = { Comedy: film, Film: film, Outdoor: outdoor };
      }),
    );
    const [a, b] = features(
      sourceEvent({ categories: ['Film', 'Outdoor'] }),
      sourceEvent({ source: 'guide', categories: ['film', 'OUTDOOR', 'Comedy'] }),
    );

    expect(sut.weightsFor(a, b)).toEqual({ weights: outdoor, category: 'outdoor' });
  });

  it('uses scoring when no shared category has an override', () => {
    const config = matchingConfig((c) => {
      c.category_weights.priority = ['Film'];
      c.category_weights.overrides = {
        Film: { date: 0.1, geo: 0.1, title: 0.7, description: 0.1 },
      };
    });
    const [a, b] = features(
      sourceEvent({ categories: ['Film'] }),
      sourceEvent({ source: 'guide', categories: ['Music'] }),
    );

    expect(new PairScorer(config).weightsFor(a, b)).toEqual({
      weights: config.scoring,
      category: null,
    });
  });
});
