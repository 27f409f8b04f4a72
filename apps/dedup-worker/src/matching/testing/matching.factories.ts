import { defaultConfig, findServiceDefinition, type MatchingConfig } from '@app/contracts';
import type { EventLocation, SourceEvent } from '../event';

/** The default dedup-worker configuration as plain JSON, optionally adjusted in place by `adjust`. */
export function matchingConfig(adjust?: (config: MatchingConfig) => void): MatchingConfig {
  const definition = findServiceDefinition('dedup-worker');
  if (definition === undefined) {
    throw new Error('dedup-worker is not registered');
  }
  // Configs reach the worker as plain JSON: no class instances, no methods.
  const config = structuredClone(defaultConfig(definition)) as unknown as MatchingConfig;
  adjust?.(config);
  return config;
}

/** A location in central Berlin, confidently geocoded, unless overridden. */
export function eventLocation(overrides: Partial<EventLocation> = {}): EventLocation {
  return {
    name: 'Columbia Theater',
    city: 'Berlin',
    lat: 52.4839,
    lon: 13.3902,
    geo_confidence: 0.95,
    ...overrides,
  };
}

/** A complete event with a consistent key; every field can be overridden. */
export function sourceEvent(overrides: Partial<Omit<SourceEvent, 'key'>> = {}): SourceEvent {
  const source = overrides.source ?? 'tickets-a';
  const id = overrides.id ?? '1';
  return {
    source_type: 'ticketing',
    title: 'Nils Frahm Live in Concert',
    short_description: 'Piano and synthesizers in Kreuzberg',
    description:
      'Nils Frahm performs new piano and synthesizer works in an intimate evening at the Columbia Theater.',
    highlights: ['Seated show'],
    categories: ['Music'],
    start: '2025-06-01T20:00:00+02:00',
    location: eventLocation(),
    ...overrides,
    source,
    id,
    key: `${source}:${id}`,
  };
}

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32), so generated data is reproducible. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ADJECTIVES = ['Midnight', 'Golden', 'Electric', 'Silent', 'Velvet', 'Crimson', 'Hidden', 'Northern', 'Wild', 'Lunar', 'Urban', 'Cosmic', 'Paper', 'Glass', 'Iron', 'Secret', 'Bright', 'Hollow', 'Amber', 'Frozen']; // prettier-ignore
const NOUNS = ['Harbor', 'Garden', 'Machine', 'Orchestra', 'Circus', 'Library', 'Parade', 'Lantern', 'Archive', 'Compass', 'Meadow', 'Engine', 'Mirror', 'Canyon', 'Festival', 'Voyage', 'Kingdom', 'Signal', 'Tide', 'Atlas']; // prettier-ignore
const KINDS = ['Quartet', 'Sessions', 'Exhibition', 'Reading', 'Tasting', 'Screening', 'Showcase', 'Lecture', 'Market', 'Ensemble', 'Workshop', 'Revue', 'Recital', 'Marathon', 'Cabaret']; // prettier-ignore
const WORDS = ['an', 'evening', 'of', 'music', 'art', 'food', 'stories', 'with', 'friends', 'guests', 'local', 'artists', 'new', 'works', 'classic', 'favourites', 'under', 'lights', 'city', 'night', 'tickets', 'door', 'bar', 'open', 'late', 'families', 'welcome', 'free', 'entry', 'limited']; // prettier-ignore
const CATEGORIES = ['Music', 'Art', 'Food', 'Film', 'Theatre', 'Talks'];

/** A generated data set and which of its events are the same real-world event. */
export interface SyntheticData {
  events: SourceEvent[];
  /** Groups of keys planted as duplicates of one another (size ≥ 2). */
  duplicateGroups: string[][];
}

/**
 * `count` events over `days` days around Berlin, about `duplicateShare` of them extra listings of an
 * earlier event from another source (a one-letter title typo, start ±10 min, coordinates ±100 m).
 */
export function syntheticEvents(options: {
  count: number;
  duplicateShare: number;
  days: number;
  seed?: number;
}): SyntheticData {
  const random = seededRandom(options.seed ?? 42);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const epoch = Date.parse('2025-06-01T00:00:00Z');
  const originals = Math.round(options.count * (1 - options.duplicateShare));
  const events: SourceEvent[] = [];
  const groups: string[][] = [];

  for (let i = 0; i < originals; i += 1) {
    const day = Math.floor(random() * options.days);
    const minute = (10 + Math.floor(random() * 13)) * 60 + 15 * Math.floor(random() * 4);
    const description = Array.from({ length: 14 }, () => pick(WORDS)).join(' ');
    events.push({
      key: `city-guide:${i}`,
      source: 'city-guide',
      source_type: 'editorial',
      id: String(i),
      title: `${pick(ADJECTIVES)} ${pick(NOUNS)} ${pick(KINDS)} ${i % 97}`,
      short_description: description.split(' ').slice(0, 5).join(' '),
      description,
      highlights: [pick(WORDS)],
      categories: [pick(CATEGORIES)],
      start: new Date(epoch + day * 86_400_000 + minute * 60_000).toISOString(),
      location: {
        name: `Venue ${Math.floor(random() * 300)}`,
        city: 'Berlin',
        lat: 52.52 + (random() - 0.5) * 0.3,
        lon: 13.4 + (random() - 0.5) * 0.5,
        geo_confidence: 0.95,
      },
    });
    groups.push([`city-guide:${i}`]);
  }

  for (let d = 0; events.length < options.count; d += 1) {
    const groupIndex = Math.floor(random() * originals);
    const original = events[groupIndex];
    const source = `feed-${d % 5}`;
    const title = typo(original.title, random);
    const words = original.description.split(' ');
    words[Math.floor(random() * words.length)] = pick(WORDS);
    const location = original.location;
    events.push({
      ...original,
      key: `${source}:${d}`,
      source,
      source_type: d % 2 === 0 ? 'ticketing' : 'editorial',
      id: String(d),
      title,
      description: words.join(' '),
      start: new Date(
        Date.parse(original.start) + Math.round((random() - 0.5) * 20) * 60_000,
      ).toISOString(),
      location:
        location === null
          ? null
          : {
              ...location,
              lat: (location.lat ?? 0) + (random() - 0.5) * 0.002,
              lon: (location.lon ?? 0) + (random() - 0.5) * 0.002,
            },
    });
    groups[groupIndex].push(`${source}:${d}`);
  }
  return { events, duplicateGroups: groups.filter((group) => group.length > 1) };
}

// One swapped pair of adjacent letters in one word: the commonest typo in hand-entered listings.
function typo(title: string, random: () => number): string {
  const words = title.split(' ');
  const index = Math.floor(random() * words.length);
  const word = words[index];
  if (word.length >= 4) {
    const at = 1 + Math.floor(random() * (word.length - 2));
    words[index] = word.slice(0, at) + word[at + 1] + word[at] + word.slice(at + 2);
  }
  return words.join(' ');
}
