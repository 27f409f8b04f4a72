import { MatchingErrorCode } from './matching.error';
import { parseBatch, startMillis } from './event';

function batch(events: unknown[]): Record<string, unknown> {
  return { source: 'tickets-a', source_type: 'ticketing', events };
}

function rawEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'e1',
    title: 'Nils Frahm Live',
    short_description: 'Piano',
    description: 'Piano and synthesizers',
    highlights: ['Seated'],
    categories: ['Music'],
    start: '2025-06-01T20:00:00+02:00',
    location: {
      name: 'Columbia Theater',
      city: 'Berlin',
      lat: 52.48,
      lon: 13.39,
      geo_confidence: 0.9,
    },
    ...overrides,
  };
}

describe(parseBatch.name, () => {
  it('returns the events tagged with their source and a source:id key', () => {
    const result = parseBatch(batch([rawEvent(), rawEvent({ id: 42 })]), 'a.json');

    expect(result.ok).toBe(true);
    const events = result.ok ? result.events : [];
    expect(events.map((event) => event.key)).toEqual(['tickets-a:e1', 'tickets-a:42']);
    expect(events[0]).toMatchObject({
      source: 'tickets-a',
      source_type: 'ticketing',
      title: 'Nils Frahm Live',
    });
  });

  it('fills missing optional fields with empty values and keeps partial locations', () => {
    const result = parseBatch(
      batch([
        {
          id: 'e1',
          title: 'Gig',
          start: '2025-06-01T20:00',
          location: { name: null, city: 'Berlin' },
        },
      ]),
      'a.json',
    );

    expect(result.ok && result.events[0]).toEqual(
      expect.objectContaining({
        short_description: '',
        description: '',
        highlights: [],
        categories: [],
        location: { name: null, city: 'Berlin', lat: null, lon: null, geo_confidence: null },
      }),
    );
  });

  it.each([
    ['not an object', 'nope', '(root)'],
    ['no source', { source_type: 't', events: [] }, 'source'],
    ['events not a list', { source: 's', source_type: 't', events: {} }, 'events'],
    [
      'an event without a title',
      batch([rawEvent(), rawEvent({ id: 'e2', title: '' })]),
      'events[1].title',
    ],
    ['a date without a time', batch([rawEvent({ start: '2025-06-01' })]), 'events[0].start'],
    ['an impossible date', batch([rawEvent({ start: '2025-13-45T20:00:00Z' })]), 'events[0].start'],
    [
      'a latitude out of range',
      batch([rawEvent({ location: { lat: 95 } })]),
      'events[0].location.lat',
    ],
    [
      'a highlight that is not a string',
      batch([rawEvent({ highlights: ['ok', 3] })]),
      'events[0].highlights[1]',
    ],
    ['a repeated id', batch([rawEvent(), rawEvent()]), 'events[1].id'],
  ])('refuses %s, naming the file and the first bad field', (_case, json, field) => {
    const result = parseBatch(json, 'incoming/feed-3.json');

    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe(MatchingErrorCode.InvalidBatch);
      expect(result.error.field).toBe(field);
      expect(result.error.message).toContain('incoming/feed-3.json');
      expect(result.error.message).toContain(field);
    }
  });
});

describe(startMillis.name, () => {
  it('reads times without an offset as UTC, whatever the machine time zone', () => {
    expect(startMillis('2025-06-01T20:00')).toBe(Date.parse('2025-06-01T20:00:00Z'));
    expect(startMillis('2025-06-01T20:00:00+02:00')).toBe(Date.parse('2025-06-01T18:00:00Z'));
  });
});
