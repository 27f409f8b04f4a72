import { serviceDefinitions } from '@app/contracts';

/** What replaces a redacted value in a log line. */
export const REDACTED = '[redacted]';

/** Field names that are secret wherever they appear (one and two levels deep). */
const SECRET_FIELDS = ['token', 'password', 'value'];

/**
 * Query parameters whose values are never logged: credentials a client may put in a URL, and
 * search terms (`q`), which can be a secret someone is looking for. Names are compared
 * case-insensitively; any name ending in one of SECRET_QUERY_SUFFIXES counts too.
 */
const SECRET_QUERY_PARAMETERS = new Set([
  'q',
  'value',
  'auth',
  'authorization',
  'apikey',
  'passwd',
  'signature',
  'sig',
]);
const SECRET_QUERY_SUFFIXES = ['token', 'password', 'secret', 'key'];

/**
 * Log paths that are never written in clear: credentials in request headers, generic secret
 * field names, and every secret path of every registered service in both its dotted form
 * (`ai.api_key`) and the façade's flat form (`ai_api_key`). Bodies are not logged at all;
 * this is the second line of defence for anything that ends up in a log object anyway.
 */
export function redactPaths(): string[] {
  const secretPaths = serviceDefinitions().flatMap((d) => d.secretPaths);
  const keys = [
    ...SECRET_FIELDS,
    ...secretPaths.map((p) => p.split('.').map(bracket).join('.')),
    ...secretPaths.map((p) => bracket(p.replace(/\./g, '_'))),
  ];
  return [
    'req.headers.authorization',
    'req.headers.cookie',
    'req.headers["x-api-key"]',
    'res.headers["set-cookie"]',
    ...new Set([...keys, ...keys.map((k) => `*.${k}`), ...keys.map((k) => `*.*.${k}`)]),
  ];
}

/** A path segment pino's redaction accepts whatever characters it holds. */
function bracket(segment: string): string {
  return segment === '*' || /^[A-Za-z_$][\w$]*$/.test(segment) ? segment : `["${segment}"]`;
}

/**
 * A URL as it may be logged: the path as it is, and the query string with the value of every
 * secret-looking parameter (SECRET_QUERY_PARAMETERS, names ending in token, password, secret or
 * key) replaced by REDACTED, its name kept. `/api/search?q=sk-1&limit=5` is logged as
 * `/api/search?q=[redacted]&limit=5`.
 */
export function redactUrl(url: string): string {
  const start = url.indexOf('?');
  if (start < 0) return url;
  const query = url
    .slice(start + 1)
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=');
      if (equals < 0) return pair;
      const name = pair.slice(0, equals);
      return isSecretQueryParameter(name) ? `${name}=${REDACTED}` : pair;
    });
  return `${url.slice(0, start)}?${query.join('&')}`;
}

function isSecretQueryParameter(raw: string): boolean {
  let name: string;
  try {
    name = decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    // A name that does not decode is not one we know: redact rather than guess.
    return true;
  }
  // `token[]` and `token[0]` (bracket styles of some clients) name the same parameter.
  name = name.trim().toLowerCase().replace(/\[.*$/, '');
  return (
    SECRET_QUERY_PARAMETERS.has(name) ||
    SECRET_QUERY_SUFFIXES.some((suffix) => name.endsWith(suffix))
  );
}
