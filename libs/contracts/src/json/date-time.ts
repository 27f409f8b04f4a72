/**
 * The date-times of the wire (issuedAt, expiresAt, attestedAt): RFC 3339 with a `T`, seconds,
 * an optional fraction of 1 to 9 digits and `Z` or a numeric offset, as every client's clock
 * writes them (toISOString). One reading for every field, so two workers never disagree on
 * whether a payload expired.
 */
export const DATE_TIME_PATTERN =
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** Longest date-time text read (a 9-digit fraction and an offset fit well within it). */
const MAX_DATE_TIME_LENGTH = 40;

/** Milliseconds since the epoch of a wire date-time, or undefined for anything else (never throws). */
export function readDateTime(value: unknown): number | undefined {
  if (
    typeof value !== 'string' ||
    value.length > MAX_DATE_TIME_LENGTH ||
    !DATE_TIME_PATTERN.test(value)
  ) {
    return undefined;
  }
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}
