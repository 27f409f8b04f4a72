import { DomainError, ErrorCode } from './domain-error';

const MAX_REASON_LENGTH = 500;

/** Parses `If-Match: "12"` (also `W/"12"` or `12`); `*` or absent means no precondition. */
export function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === '' || header.trim() === '*') return undefined;
  const match = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(header);
  if (!match) {
    throw new DomainError(ErrorCode.ValidationFailed, 'If-Match must be a version ETag like "12"', [
      { path: 'If-Match', message: 'If-Match must be a version ETag like "12"' },
    ]);
  }
  return Number(match[1]);
}

/** Reads `X-Change-Reason` (at most 500 characters). */
export function parseReason(header: string | undefined): string | undefined {
  const reason = header?.trim();
  if (!reason) return undefined;
  if (reason.length > MAX_REASON_LENGTH) {
    throw new DomainError(
      ErrorCode.ValidationFailed,
      `X-Change-Reason must be at most ${MAX_REASON_LENGTH} characters`,
      [{ path: 'X-Change-Reason', message: `at most ${MAX_REASON_LENGTH} characters` }],
    );
  }
  return reason;
}

/** The ETag of a version. */
export function versionEtag(version: number): string {
  return `"${version}"`;
}
