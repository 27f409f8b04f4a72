// Every REST path the page calls, relative to the manager's /api: pages and hooks never spell one.
// Names and dotted config paths travel as path segments, everything else as query values.

/** The path segment for a service name or dotted config path. */
export function segment(value: string): string {
  return encodeURIComponent(value);
}

type QueryValue = string | number | undefined;

/** `?a=1&b=2` in the given order, leaving out values that are undefined or empty. */
function query(values: Record<string, QueryValue>): string {
  const pairs = Object.entries(values).flatMap(([key, value]) =>
    value === undefined || value === '' ? [] : [`${key}=${encodeURIComponent(value)}`],
  );
  return pairs.length === 0 ? '' : `?${pairs.join('&')}`;
}

const service = (name: string) => `/services/${segment(name)}`;

export const endpoints = {
  /** The token's name and roles. */
  me: () => '/me',
  /** Every service with its version and instance counts. */
  services: () => '/services',
  /** A service registered over the API: PUT registers it, changes its schema or restores it; DELETE archives it. */
  registration: (name: string) => service(name),
  schema: (name: string) => `${service(name)}/schema`,
  /** The service's schema versions, newest first. */
  schemaVersions: (name: string) => `${service(name)}/schemas`,
  /** One schema version with its JSON Schema. */
  schemaVersion: (name: string, schemaVersion: number) =>
    `${service(name)}/schemas/${schemaVersion}`,
  /** The current config: GET it, PATCH it with If-Match. */
  config: (name: string) => `${service(name)}/config`,
  diff: (name: string, range: { from: number; to: number }) =>
    `${service(name)}/diff${query({ from: range.from, to: range.to })}`,
  /** Versions newest first, `limit` of them older than `before`. */
  versions: (name: string, page: { limit: number; before?: number }) =>
    `${service(name)}/versions${query({ limit: page.limit, before: page.before })}`,
  rollback: (name: string) => `${service(name)}/rollback`,
  /** One secret: PUT its value, DELETE to clear it. */
  secret: (name: string, path: string) => `${service(name)}/secrets/${segment(path)}`,
  /** The most recently seen instances; the total is in X-Total-Count. */
  instances: (name: string, page: { limit: number }) =>
    `${service(name)}/instances${query({ limit: page.limit })}`,
  /** A service's rollouts, newest first; POST starts one. */
  rollouts: (name: string) => `${service(name)}/rollouts`,
  /** One rollout: its steps, instances and timeline. */
  rollout: (name: string, id: string) => `${service(name)}/rollouts/${segment(id)}`,
  /** POST: pause, resume, abort or promote (skip to the last step) a rollout. */
  rolloutAction: (name: string, id: string, action: 'pause' | 'resume' | 'abort' | 'promote') =>
    `${service(name)}/rollouts/${segment(id)}/${action}`,
  search: (text: string) => `/search${query({ q: text })}`,
  /** Audit entries newest first, of one service or all, older than the entry `before`. */
  audit: (filter: { limit: number; service?: string; before?: number }) =>
    `/audit${query({ limit: filter.limit, service: filter.service, before: filter.before })}`,
};
