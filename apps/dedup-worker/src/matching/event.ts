import { MatchingError, MatchingErrorCode } from './matching.error';

/** Where an event takes place; any field may be unknown. */
export interface EventLocation {
  name: string | null;
  city: string | null;
  lat: number | null;
  lon: number | null;
  /** The geocoder's confidence in lat/lon, in [0, 1]. */
  geo_confidence: number | null;
}

/** One event as a source published it, tagged with where it came from. */
export interface SourceEvent {
  /** `${source}:${id}`, unique across sources. */
  key: string;
  source: string;
  source_type: string;
  id: string;
  title: string;
  short_description: string;
  description: string;
  highlights: string[];
  categories: string[];
  /** ISO 8601 date-time as published. */
  start: string;
  end?: string;
  location: EventLocation | null;
}

/** Outcome of parsing a batch file: its events, or the first problem found. */
export type ParseBatchResult =
  | { ok: true; source: string; sourceType: string; events: SourceEvent[] }
  | { ok: false; error: MatchingError };

// Date and time are required; seconds, fractions and the offset are optional.
const ISO_DATE_TIME =
  /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?$/i;
const HAS_OFFSET = /(?:Z|[+-]\d{2}:?\d{2})$/i;

/** Milliseconds since the epoch of an ISO date-time; times without an offset are read as UTC. */
export function startMillis(iso: string): number {
  // Reading floating times as UTC keeps results independent of the worker's time zone.
  const normalised = iso.replace(' ', 'T');
  return Date.parse(HAS_OFFSET.test(normalised) ? normalised : `${normalised}Z`);
}

class BadField extends Error {
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field} ${problem}`);
  }
}

/** Validates a batch file `{ source, source_type, events: [...] }` and returns its events. */
export function parseBatch(json: unknown, fileName: string): ParseBatchResult {
  try {
    const batch = record(json, '(root)');
    const source = requiredString(batch.source, 'source');
    const sourceType = requiredString(batch.source_type, 'source_type');
    if (!Array.isArray(batch.events)) {
      throw new BadField('events', 'must be an array');
    }
    const seen = new Set<string>();
    const events = batch.events.map((raw: unknown, index) => {
      const event = parseEvent(raw, `events[${index}]`, source, sourceType);
      if (seen.has(event.id)) {
        throw new BadField(`events[${index}].id`, `repeats id "${event.id}" within the file`);
      }
      seen.add(event.id);
      return event;
    });
    return { ok: true, source, sourceType, events };
  } catch (error: unknown) {
    if (error instanceof BadField) {
      return {
        ok: false,
        error: new MatchingError(
          MatchingErrorCode.InvalidBatch,
          `${fileName}: ${error.field} ${error.problem}`,
          fileName,
          error.field,
        ),
      };
    }
    throw error;
  }
}

function parseEvent(raw: unknown, path: string, source: string, sourceType: string): SourceEvent {
  const event = record(raw, path);
  const id = parseId(event.id, `${path}.id`);
  const end = optionalDateTime(event.end, `${path}.end`);
  return {
    key: `${source}:${id}`,
    source,
    source_type: sourceType,
    id,
    title: requiredString(event.title, `${path}.title`),
    short_description: optionalString(event.short_description, `${path}.short_description`),
    description: optionalString(event.description, `${path}.description`),
    highlights: stringList(event.highlights, `${path}.highlights`),
    categories: stringList(event.categories, `${path}.categories`),
    start: requiredDateTime(event.start, `${path}.start`),
    ...(end === undefined ? {} : { end }),
    location: parseLocation(event.location, `${path}.location`),
  };
}

function parseLocation(raw: unknown, path: string): EventLocation | null {
  if (raw === undefined || raw === null) {
    return null;
  }
  const location = record(raw, path);
  return {
    name: nullableString(location.name, `${path}.name`),
    city: nullableString(location.city, `${path}.city`),
    lat: nullableNumber(location.lat, `${path}.lat`, -90, 90),
    lon: nullableNumber(location.lon, `${path}.lon`, -180, 180),
    geo_confidence: nullableNumber(location.geo_confidence, `${path}.geo_confidence`, 0, 1),
  };
}

function record(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BadField(path, 'must be an object');
  }
  return value as Record<string, unknown>;
}

function parseId(value: unknown, path: string): string {
  // Many feeds number their events; a number id is as good as a string one.
  if (typeof value === 'number' && Number.isSafeInteger(value)) {
    return String(value);
  }
  return requiredString(value, path);
}

function requiredString(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new BadField(path, 'must be a non-empty string');
  }
  return value;
}

function optionalString(value: unknown, path: string): string {
  return nullableString(value, path) ?? '';
}

function nullableString(value: unknown, path: string): string | null {
  if (value === undefined || value === null) {
    return null;
  }
  if (typeof value !== 'string') {
    throw new BadField(path, 'must be a string or null');
  }
  return value;
}

function nullableNumber(value: unknown, path: string, min: number, max: number): number | null {
  if (value === undefined || value === null) {
    return null;
  }
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new BadField(path, `must be a number between ${min} and ${max}, or null`);
  }
  return value;
}

function stringList(value: unknown, path: string): string[] {
  if (value === undefined || value === null) {
    return [];
  }
  if (!Array.isArray(value)) {
    throw new BadField(path, 'must be an array of strings');
  }
  return value.map((item: unknown, index) => {
    if (typeof item !== 'string') {
      throw new BadField(`${path}[${index}]`, 'must be a string');
    }
    return item;
  });
}

function requiredDateTime(value: unknown, path: string): string {
  if (typeof value !== 'string' || !ISO_DATE_TIME.test(value) || Number.isNaN(startMillis(value))) {
    throw new BadField(path, 'must be an ISO 8601 date-time such as 2025-06-01T20:00:00+02:00');
  }
  return value;
}

function optionalDateTime(value: unknown, path: string): string | undefined {
  return value === undefined || value === null ? undefined : requiredDateTime(value, path);
}
