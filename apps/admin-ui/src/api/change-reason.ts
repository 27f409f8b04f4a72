/**
 * The X-Change-Reason rule, as config-manager applies it (apps/config-manager/src/common/
 * change-headers.ts; change-reason.spec.ts proves both agree). A browser cannot put characters
 * outside Latin-1 in a header, so the reason travels as an RFC 8187 ext-value,
 * `UTF-8''<percent-encoded UTF-8>`. The page may not import the manager's code, hence this copy.
 */

/** Most characters (code points) a reason may have. */
export const MAX_REASON = 500;

const LINE_BREAKS = /[\t\n\v\f\r]/g;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g;
const LONE_SURROGATE = /\p{Surrogate}/u;

/** The reason as the manager stores it: tabs and line breaks as spaces, no controls, trimmed. */
export function normalizeReason(input: string): string {
  return input.replace(LINE_BREAKS, ' ').replace(CONTROLS, '').trim();
}

/** Why the manager would refuse this reason, or undefined when it is fine (empty included). */
export function reasonProblem(input: string): string | undefined {
  if (LONE_SURROGATE.test(input)) return 'contains a broken character (an unpaired surrogate)';
  return [...normalizeReason(input)].length > MAX_REASON
    ? `at most ${MAX_REASON} characters`
    : undefined;
}

/**
 * Headers carrying the reason (none for an empty one), encoded as `UTF-8''…`; check
 * reasonProblem first (an unpaired surrogate cannot be encoded).
 */
export function reasonHeaders(input: string): Record<string, string> {
  const reason = normalizeReason(input);
  if (reason === '') return {};
  // encodeURIComponent leaves '()* unencoded, which RFC 8187's attr-char does not allow.
  const encoded = encodeURIComponent(reason).replace(
    /['()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return { 'X-Change-Reason': `UTF-8''${encoded}` };
}
