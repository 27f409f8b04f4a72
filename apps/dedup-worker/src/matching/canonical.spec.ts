import type { FieldStrategies } from '@app/contracts';
import {
  buildCanonical,
  isGenericTitle,
  mergeLists,
  pickLocation,
  pickStart,
  pickText,
  pickTitle,
  type CanonicalMember,
} from './canonical';
import type { SourceEvent } from './event';
import { eventLocation, matchingConfig, sourceEvent } from './testing/matching.factories';

function strategies(overrides: Partial<FieldStrategies> = {}): FieldStrategies {
  return { ...matchingConfig().canonical.field_strategies, ...overrides };
}

function members(events: readonly SourceEvent[]): CanonicalMember[] {
  return events.map((event, inputIndex) => ({ event, inputIndex }));
}

describe(isGenericTitle.name, () => {
  it.each(['Concert', 'Live Music', 'The Workshop', 'EVENT!', 'Gig', 'Jazz', 'Open Mic Night'])(
    'calls "%s" generic',
    (title) => expect(isGenericTitle(title)).toBe(true),
  );

  it.each(['Jazz Night at the Lake', 'Nils Frahm', 'Casablanca', 'Live Music: The Notwist'])(
    'calls "%s" specific',
    (title) => expect(isGenericTitle(title)).toBe(false),
  );
});

describe(pickTitle.name, () => {
  it('prefers the longest title that is not generic', () => {
    expect(
      pickTitle(['Live Music Concert Event Night', 'Nils Frahm', 'Concert'], 'longest_non_generic'),
    ).toBe('Nils Frahm');
  });

  it('takes the longest when every title is generic', () => {
    expect(pickTitle(['Concert', 'Live Music'], 'longest_non_generic')).toBe('Live Music');
  });
});

describe(pickText.name, () => {
  const values = ['', 'bb', 'aaa', 'bb', 'cc', 'dddd'];

  it.each([
    ['longest', 'dddd'],
    ['shortest', 'bb'],
    ['most_common', 'bb'],
    ['first', 'bb'],
  ] as const)('picks by %s among non-blank values', (strategy, expected) => {
    expect(pickText(values, strategy)).toBe(expected);
  });

  it('breaks ties without looking at input order', () => {
    expect(pickText(['cc', 'bb'], 'shortest')).toBe('bb');
    expect(pickText(['bb', 'cc'], 'shortest')).toBe('bb');
  });

  it('gives an empty string when every value is blank', () => {
    expect(pickText(['', '  '], 'longest')).toBe('');
  });
});

describe(mergeLists.name, () => {
  const lists = [['Seated', 'Bar'], [], ['seated', 'Cloakroom'], ['Bar', 'SEATED']];

  it.each([
    ['union', ['Seated', 'Bar', 'Cloakroom']],
    ['intersection', ['Seated']],
    ['most_common', ['Seated', 'Bar']],
    ['first', ['Seated', 'Bar']],
  ] as const)(
    'merges by %s, case-insensitively and keeping the first spelling',
    (strategy, expected) => {
      expect(mergeLists(lists, strategy)).toEqual(expected);
    },
  );
});

describe(pickLocation.name, () => {
  const sparse = sourceEvent({
    location: eventLocation({ lat: null, lon: null, geo_confidence: null }),
  });
  const full = sourceEvent({ id: '2', location: eventLocation({ geo_confidence: 0.7 }) });
  const fullerConfidence = sourceEvent({
    id: '3',
    location: eventLocation({ name: 'Columbia Theatre', geo_confidence: 0.99 }),
  });

  it('takes the most complete location, ties to the highest geo_confidence', () => {
    expect(pickLocation([sparse, full, fullerConfidence], 'most_complete')?.geo_confidence).toBe(
      0.99,
    );
  });

  it('takes the earliest seen location for first and skips events without one', () => {
    expect(pickLocation([sourceEvent({ location: null }), sparse, full], 'first')).toEqual(
      sparse.location,
    );
  });

  it('takes the most common place for most_common', () => {
    expect(pickLocation([fullerConfidence, sparse, full], 'most_common')?.name).toBe(
      'Columbia Theater',
    );
  });
});

describe(pickStart.name, () => {
  const events = [
    sourceEvent({ id: '1', start: '2025-06-01T20:00:00+02:00', end: '2025-06-01T22:00:00+02:00' }),
    sourceEvent({ id: '2', start: '2025-06-01T19:30:00+02:00' }),
    sourceEvent({ id: '3', start: '2025-06-01T18:00:00Z' }),
  ];

  it.each([
    ['earliest', '2'],
    ['latest', '1'],
    ['most_common', '1'],
    ['first', '1'],
  ] as const)('picks the %s start', (strategy, id) => {
    expect(pickStart(events, strategy).id).toBe(id);
  });
});

describe(buildCanonical.name, () => {
  const a = sourceEvent({
    source: 'tickets',
    id: '9',
    title: 'Concert',
    description: 'Short.',
    categories: ['Music'],
    start: '2025-06-01T20:00:00+02:00',
    end: '2025-06-01T22:00:00+02:00',
  });
  const b = sourceEvent({
    source: 'guide',
    id: '1',
    title: 'Nils Frahm Live',
    description: 'A much longer description of the evening.',
    categories: ['music', 'Piano'],
    start: '2025-06-01T19:30:00+02:00',
  });

  it('merges fields by the default strategies and lists members and sources', () => {
    const canonical = buildCanonical(members([a, b]), strategies());

    expect(canonical).toMatchObject({
      title: 'Nils Frahm Live',
      description: 'A much longer description of the evening.',
      categories: ['Music', 'Piano'],
      start: '2025-06-01T19:30:00+02:00',
      members: ['guide:1', 'tickets:9'],
      sources: ['guide', 'tickets'],
    });
    // The end belongs to the 20:00 listing, not to the chosen 19:30 start.
    expect(canonical.end).toBeUndefined();
  });

  it('uses input order for first, whatever order the members are given in', () => {
    const given = [
      { event: b, inputIndex: 5 },
      { event: a, inputIndex: 2 },
    ];

    const canonical = buildCanonical(given, strategies({ title: 'first', start: 'first' }));

    expect(canonical.title).toBe('Concert');
    expect(canonical.start).toBe('2025-06-01T20:00:00+02:00');
    expect(canonical.end).toBe('2025-06-01T22:00:00+02:00');
  });
});
