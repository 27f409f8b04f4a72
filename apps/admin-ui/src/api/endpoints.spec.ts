import { endpoints } from './endpoints';

describe('endpoints', () => {
  it('puts service names and dotted secret paths in path segments', () => {
    expect(endpoints.config('dedup-worker')).toBe('/services/dedup-worker/config');
    expect(endpoints.schema('a b/c')).toBe('/services/a%20b%2Fc/schema');
    expect(endpoints.secret('dedup-worker', 'ai.api_key')).toBe(
      '/services/dedup-worker/secrets/ai.api_key',
    );
    expect(endpoints.rollback('dedup-worker')).toBe('/services/dedup-worker/rollback');
  });

  it('registers, archives and lists the schema versions of a service by its name', () => {
    expect(endpoints.registration('billing-worker')).toBe('/services/billing-worker');
    expect(endpoints.schemaVersions('billing-worker')).toBe('/services/billing-worker/schemas');
    expect(endpoints.schemaVersion('billing-worker', 3)).toBe('/services/billing-worker/schemas/3');
  });

  it('names rollouts and their actions by service and id', () => {
    expect(endpoints.rollouts('dedup-worker')).toBe('/services/dedup-worker/rollouts');
    expect(endpoints.rollout('dedup-worker', 'r-1a2b')).toBe(
      '/services/dedup-worker/rollouts/r-1a2b',
    );
    expect(endpoints.rolloutAction('dedup-worker', 'r/x', 'promote')).toBe(
      '/services/dedup-worker/rollouts/r%2Fx/promote',
    );
  });

  it('sends the query values in order and leaves out the absent ones', () => {
    expect(endpoints.versions('s', { limit: 50 })).toBe('/services/s/versions?limit=50');
    expect(endpoints.versions('s', { limit: 50, before: 51 })).toBe(
      '/services/s/versions?limit=50&before=51',
    );
    expect(endpoints.diff('s', { from: 4, to: 5 })).toBe('/services/s/diff?from=4&to=5');
    expect(endpoints.instances('s', { limit: 1000 })).toBe('/services/s/instances?limit=1000');
    expect(endpoints.audit({ limit: 100, service: '' })).toBe('/audit?limit=100');
    expect(endpoints.audit({ limit: 100, service: 'dedup-worker', before: 7 })).toBe(
      '/audit?limit=100&service=dedup-worker&before=7',
    );
  });

  it('encodes query text as a URI component', () => {
    expect(endpoints.search('max_distance')).toBe('/search?q=max_distance');
    expect(endpoints.search('a&b = ü')).toBe('/search?q=a%26b%20%3D%20%C3%BC');
  });
});
