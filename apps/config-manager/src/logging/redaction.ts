import { serviceDefinitions } from '@app/contracts';

/** What replaces a redacted value in a log line. */
export const REDACTED = '[redacted]';

/** Field names that are secret wherever they appear (one and two levels deep). */
const SECRET_FIELDS = ['token', 'password', 'value'];

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
