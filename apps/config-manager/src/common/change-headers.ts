import { DomainError, ErrorCode } from './domain-error';

/** Most code points a change reason may have (what the admin page checks too). */
const MAX_REASON_LENGTH = 500;
/** `UTF-8'<optional language>'<value>`; the charset name is case-insensitive. */
const EXT_VALUE = /^UTF-8'[A-Za-z0-9-]*'/i;
/** RFC 8187 attr-char, plus the `'()*` that encodeURIComponent leaves unencoded. */
const VALUE_CHAR = /^[A-Za-z0-9!#$&+\-.^_`|~'()*]$/;
const HEX_PAIR = /^[0-9A-Fa-f]{2}$/;
/** Header bytes arrive as characters up to U+00FF; anything above (lone surrogates too) is not. */
const NOT_BYTES = /[\u0100-\uffff]/;
const LINE_BREAKS = /[\t\n\v\f\r]/g;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g;
// Strict, and keeping a leading U+FEFF: the reason is stored as the admin page counted it.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** OpenAPI description of `X-Change-Reason`, on every write endpoint. */
export const CHANGE_REASON_HEADER = {
  name: 'X-Change-Reason',
  required: false,
  description:
    "Why (kept in history and audit): UTF-8, raw or as UTF-8''<percent-encoded> (RFC 8187); " +
    'controls are dropped; at most 500 characters (code points)',
};

/** OpenAPI description of `X-Publish`, on every config and secret write endpoint. */
export const PUBLISH_HEADER = {
  name: 'X-Publish',
  required: false,
  description:
    '`now` (default): publish the new version at once; `staged`: create it without publishing it ' +
    '(the current version stays; roll it out with POST …/rollouts; docs/rollouts.md)',
};

/** Whether a write publishes its version at once or only stages it. */
export type PublishMode = 'now' | 'staged';

/** Parses `X-Publish` (`now` or `staged`, case-insensitive); absent or empty means `now`. */
export function parsePublish(header: string | undefined): PublishMode {
  const value = header?.trim().toLowerCase() ?? '';
  if (value === '' || value === 'now') return 'now';
  if (value === 'staged') return 'staged';
  const message = 'X-Publish must be "now" or "staged"';
  throw new DomainError(ErrorCode.ValidationFailed, message, [{ path: 'X-Publish', message }]);
}

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

/**
 * Reads `X-Change-Reason`. Node hands header bytes over as Latin-1 characters, so the value is
 * taken either as an RFC 8187 ext-value, `UTF-8''<percent-encoded UTF-8>` (what browsers must
 * send: they cannot put other characters in a header), or as raw bytes that must be valid UTF-8.
 * Tabs and line breaks become spaces, other control characters (C0, DEL, C1) are dropped, the
 * result is trimmed and may hold at most 500 code points; empty means no reason.
 */
export function parseReason(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const bytes = NOT_BYTES.test(header)
    ? undefined
    : EXT_VALUE.test(header)
      ? percentDecoded(header)
      : Buffer.from(header, 'latin1');
  const decoded = bytes === undefined ? undefined : strictUtf8(bytes);
  if (decoded === undefined) {
    throw reasonError(
      "X-Change-Reason must be UTF-8: raw, or encoded as UTF-8''<percent-encoded> (RFC 8187)",
      "must be UTF-8, raw or as UTF-8''<percent-encoded>",
    );
  }
  const reason = decoded.replace(LINE_BREAKS, ' ').replace(CONTROLS, '').trim();
  if (reason === '') return undefined;
  if ([...reason].length > MAX_REASON_LENGTH) {
    throw reasonError(
      `X-Change-Reason must be at most ${MAX_REASON_LENGTH} characters`,
      `at most ${MAX_REASON_LENGTH} characters`,
    );
  }
  return reason;
}

/** The bytes of an ext-value's percent-encoded part, or undefined when it is malformed. */
function percentDecoded(header: string): Buffer | undefined {
  const value = header.slice(header.indexOf("'", header.indexOf("'") + 1) + 1);
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const char = value[i];
    if (char === '%') {
      const hex = value.slice(i + 1, i + 3);
      if (!HEX_PAIR.test(hex)) return undefined;
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (VALUE_CHAR.test(char)) {
      bytes.push(char.charCodeAt(0));
    } else {
      return undefined;
    }
  }
  return Buffer.from(bytes);
}

function strictUtf8(bytes: Buffer): string | undefined {
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

function reasonError(message: string, detail: string): DomainError {
  return new DomainError(ErrorCode.ValidationFailed, message, [
    { path: 'X-Change-Reason', message: detail },
  ]);
}

/** The ETag of a version. */
export function versionEtag(version: number): string {
  return `"${version}"`;
}
