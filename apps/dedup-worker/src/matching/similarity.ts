import { distance } from 'fastest-levenshtein';

const EARTH_RADIUS_KM = 6371.0088;
const COMBINING_MARKS = /\p{M}+/gu;
const NOT_LETTER_OR_DIGIT = /[^\p{L}\p{N}]+/gu;

/** Lower-cases, strips accents and punctuation and collapses spaces: "Café-Concert!" → "cafe concert". */
export function normaliseText(text: string): string {
  return text
    .normalize('NFKD')
    .replace(COMBINING_MARKS, '')
    .toLowerCase()
    .replace(NOT_LETTER_OR_DIGIT, ' ')
    .trim();
}

/** The distinct words of an already normalised text. */
export function tokenSet(normalised: string): Set<string> {
  return new Set(normalised === '' ? [] : normalised.split(' '));
}

/** Dice coefficient 2|A∩B| / (|A|+|B|) of two word sets; 0 when both are empty. */
export function diceSimilarity(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  const total = a.size + b.size;
  if (total === 0) {
    return 0;
  }
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let shared = 0;
  for (const token of small) {
    if (large.has(token)) {
      shared += 1;
    }
  }
  return (2 * shared) / total;
}

/** Dice coefficient of two sorted, duplicate-free id lists (word sets mapped to ids); 0 when both are empty. */
export function diceSimilaritySorted(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const total = a.length + b.length;
  if (total === 0) {
    return 0;
  }
  let shared = 0;
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      shared += 1;
      i += 1;
      j += 1;
    } else if (a[i] < b[j]) {
      i += 1;
    } else {
      j += 1;
    }
  }
  return (2 * shared) / total;
}

/** 1 − Levenshtein distance / length of the longer string; 1 for two empty strings. */
export function levenshteinRatio(a: string, b: string): number {
  const longest = Math.max(a.length, b.length);
  return longest === 0 ? 1 : 1 - distance(a, b) / longest;
}

/** Great-circle distance in kilometres between two points given in degrees. */
export function haversineKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const toRadians = Math.PI / 180;
  const dLat = (lat2 - lat1) * toRadians;
  const dLon = (lon2 - lon1) * toRadians;
  const h =
    Math.sin(dLat / 2) ** 2 +
    Math.cos(lat1 * toRadians) * Math.cos(lat2 * toRadians) * Math.sin(dLon / 2) ** 2;
  // min() guards asin against rounding just above 1 for antipodal points.
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}
