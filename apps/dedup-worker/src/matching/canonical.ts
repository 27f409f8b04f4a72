import type {
  FieldStrategies,
  ListStrategy,
  LocationStrategy,
  StartStrategy,
  TextStrategy,
  TitleStrategy,
} from '@app/contracts';
import { compareStrings } from './blocking';
import { startMillis, type EventLocation, type SourceEvent } from './event';
import { normaliseText } from './similarity';

/** The listing fields a canonical event is merged from (one strategy each, `end` with `start`). */
type MergedFields = Pick<
  SourceEvent,
  | 'title'
  | 'short_description'
  | 'description'
  | 'highlights'
  | 'categories'
  | 'start'
  | 'end'
  | 'location'
>;

/** One event standing for a cluster of duplicates, merged field by field. */
export interface CanonicalEvent extends MergedFields {
  /** Keys of the merged events, in key order. */
  members: string[];
  /** Distinct sources of the merged events, in alphabetical order. */
  sources: string[];
}

/** A cluster member and its position in the input (earliest-seen wins `first`). */
export interface CanonicalMember {
  event: SourceEvent;
  inputIndex: number;
}

/**
 * Words that on their own name a kind of event rather than an event: a title made only of these
 * (and filler words) is generic, such as "Concert", "Live Music", "The Workshop".
 */
export const GENERIC_TITLE_WORDS: ReadonlySet<string> = new Set([
  'a', 'an', 'the', 'and', 'of', 'at', 'in', 'on', 'with', 'for', 'night', 'day', 'evening',
  'live', 'music', 'concert', 'concerts', 'gig', 'show', 'event', 'events', 'party', 'festival',
  'workshop', 'class', 'course', 'talk', 'lecture', 'meetup', 'meeting', 'session', 'tour',
  'exhibition', 'screening', 'film', 'performance', 'market', 'fair', 'dance', 'theatre',
  'theater', 'comedy', 'open', 'mic', 'dj', 'set', 'special', 'tbc', 'tba', 'untitled', 'new',
]); // prettier-ignore
/** Normalised titles shorter than this many characters are generic ("Gig", "Fest"). */
export const MIN_SPECIFIC_TITLE_LENGTH = 5;

/** True for titles too short or too vague to identify an event ("Concert", "Live music", "Gig"). */
export function isGenericTitle(title: string): boolean {
  const normalised = normaliseText(title);
  if (normalised.length < MIN_SPECIFIC_TITLE_LENGTH) {
    return true;
  }
  return normalised.split(' ').every((word) => GENERIC_TITLE_WORDS.has(word));
}

/** Merges the members of a cluster into one event by the configured field strategies. */
export function buildCanonical(
  members: readonly CanonicalMember[],
  strategies: FieldStrategies,
): CanonicalEvent {
  // Input order drives `first` and the order of merged lists; every other choice is order-independent.
  const seen = [...members].sort((a, b) => a.inputIndex - b.inputIndex).map((m) => m.event);
  const start = pickStart(seen, strategies.start);
  const end = start.end;
  return {
    title: pickTitle(
      seen.map((event) => event.title),
      strategies.title,
    ),
    short_description: pickText(
      seen.map((event) => event.short_description),
      strategies.short_description,
    ),
    description: pickText(
      seen.map((event) => event.description),
      strategies.description,
    ),
    highlights: mergeLists(
      seen.map((event) => event.highlights),
      strategies.highlights,
    ),
    categories: mergeLists(
      seen.map((event) => event.categories),
      strategies.categories,
    ),
    start: start.start,
    // The end travels with the start it belongs to, so the pair stays consistent.
    ...(end === undefined ? {} : { end }),
    location: pickLocation(seen, strategies.location),
    members: seen.map((event) => event.key).sort(compareStrings),
    sources: [...new Set(seen.map((event) => event.source))].sort(compareStrings),
  };
}

/**
 * Picks a title: `longest_non_generic` is the longest title that is not generic (see
 * isGenericTitle), or the longest title when all are generic; other strategies as for text.
 */
export function pickTitle(titles: readonly string[], strategy: TitleStrategy): string {
  if (strategy === 'longest_non_generic') {
    const specific = titles.filter((title) => !isGenericTitle(title));
    return pickText(specific.length > 0 ? specific : titles, 'longest');
  }
  return pickText(titles, strategy);
}

/**
 * Picks a text among the non-blank values ('' when all are blank), given in input order: `first` is
 * the earliest seen; ties of `longest`, `shortest` and `most_common` (then longer) go to the
 * smallest string in code-unit order, so they do not depend on input order.
 */
export function pickText(values: readonly string[], strategy: TextStrategy): string {
  const present = values.filter((value) => value.trim() !== '');
  if (present.length === 0) {
    return '';
  }
  switch (strategy) {
    case 'first':
      return present[0];
    case 'longest':
      return best(present, (a, b) => b.length - a.length || compareStrings(a, b));
    case 'shortest':
      return best(present, (a, b) => a.length - b.length || compareStrings(a, b));
    case 'most_common': {
      const counts = countBy(present, (value) => value.trim());
      return best(
        present,
        (a, b) =>
          (counts.get(b.trim()) ?? 0) - (counts.get(a.trim()) ?? 0) ||
          b.length - a.length ||
          compareStrings(a, b),
      );
    }
  }
}

/**
 * Merges lists given in input order, comparing items case-insensitively (the first spelling seen
 * is kept): `union` keeps every item in order of first appearance; `intersection` keeps items found
 * in every non-empty list (an empty list means the source did not say); `most_common` is the list
 * (as a set) that most members carry, ties to the longer, then the earliest seen; `first` is the
 * earliest-seen non-empty list.
 */
export function mergeLists(
  lists: readonly (readonly string[])[],
  strategy: ListStrategy,
): string[] {
  const present = lists.map(dedupeList).filter((list) => list.length > 0);
  if (present.length === 0) {
    return [];
  }
  switch (strategy) {
    case 'first':
      return present[0];
    case 'union':
      return dedupeList(present.flat());
    case 'intersection': {
      const sets = present.map((list) => new Set(list.map(itemKey)));
      return present[0].filter((item) => sets.every((set) => set.has(itemKey(item))));
    }
    case 'most_common': {
      const signature = (list: readonly string[]): string =>
        JSON.stringify(list.map(itemKey).sort(compareStrings));
      const counts = countBy(present, signature);
      let winner = present[0];
      for (const list of present) {
        const diff = (counts.get(signature(list)) ?? 0) - (counts.get(signature(winner)) ?? 0);
        if (diff > 0 || (diff === 0 && list.length > winner.length)) {
          winner = list;
        }
      }
      return winner;
    }
  }
}

/**
 * Picks a location among the members that have one: `most_complete` has the most known fields
 * (name, city, lat, lon, geo_confidence), ties to the highest geo_confidence, then the earliest
 * seen; `most_common` is the most frequent normalised name and city, ties to the most complete;
 * `first` is the earliest seen.
 */
export function pickLocation(
  events: readonly SourceEvent[],
  strategy: LocationStrategy,
): EventLocation | null {
  const locations = events
    .map((event) => event.location)
    .filter(
      (location): location is EventLocation => location !== null && completeness(location) > 0,
    );
  if (locations.length === 0) {
    return null;
  }
  const byCompleteness = (a: EventLocation, b: EventLocation): number =>
    completeness(b) - completeness(a) || (b.geo_confidence ?? -1) - (a.geo_confidence ?? -1);
  switch (strategy) {
    case 'first':
      return { ...locations[0] };
    case 'most_complete':
      return { ...best(locations, byCompleteness) };
    case 'most_common': {
      const place = (location: EventLocation): string =>
        `${normaliseText(location.name ?? '')}|${normaliseText(location.city ?? '')}`;
      const counts = countBy(locations, place);
      return {
        ...best(
          locations,
          (a, b) =>
            (counts.get(place(b)) ?? 0) - (counts.get(place(a)) ?? 0) || byCompleteness(a, b),
        ),
      };
    }
  }
}

/**
 * Picks the member whose start becomes canonical: `earliest`, `latest`, `most_common` (the instant
 * most members give, ties to the earliest) or `first` (earliest seen).
 */
export function pickStart(events: readonly SourceEvent[], strategy: StartStrategy): SourceEvent {
  const millis = new Map(events.map((event) => [event, startMillis(event.start)]));
  const at = (event: SourceEvent): number => millis.get(event) ?? 0;
  switch (strategy) {
    case 'first':
      return events[0];
    case 'earliest':
      return best(events, (a, b) => at(a) - at(b));
    case 'latest':
      return best(events, (a, b) => at(b) - at(a));
    case 'most_common': {
      const counts = countBy(events, (event) => String(at(event)));
      return best(
        events,
        (a, b) =>
          (counts.get(String(at(b))) ?? 0) - (counts.get(String(at(a))) ?? 0) || at(a) - at(b),
      );
    }
  }
}

function completeness(location: EventLocation): number {
  const text = (value: string | null): number => (value !== null && value.trim() !== '' ? 1 : 0);
  const number = (value: number | null): number => (value !== null ? 1 : 0);
  return (
    text(location.name) +
    text(location.city) +
    number(location.lat) +
    number(location.lon) +
    number(location.geo_confidence)
  );
}

// The first element that no later one beats: a stable arg-min, so equal candidates keep input order.
function best<T>(items: readonly T[], compare: (a: T, b: T) => number): T {
  let winner = items[0];
  for (const item of items) {
    if (compare(item, winner) < 0) {
      winner = item;
    }
  }
  return winner;
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) {
    counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  }
  return counts;
}

function itemKey(item: string): string {
  return item.trim().toLowerCase();
}

function dedupeList(list: readonly string[]): string[] {
  const seen = new Set<string>();
  const result: string[] = [];
  for (const item of list) {
    const key = itemKey(item);
    if (key !== '' && !seen.has(key)) {
      seen.add(key);
      result.push(item);
    }
  }
  return result;
}
