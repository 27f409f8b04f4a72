import { syntheticServices } from './testing/synthetic-services';
import { MAX_HITS, searchConfigs } from './search-configs';

describe(searchConfigs.name, () => {
  // The scale the admin page's search must handle: 10 services of 200 keys.
  const sources = syntheticServices(10, 200);

  it('finds keys and values across every service, case-insensitively', () => {
    expect(searchConfigs(sources, 'FIELD_123_')).toEqual(
      Array.from({ length: 10 }, (_, s) => ({
        service: `service-${s}`,
        path: 'section_12.field_123_timeout',
        value: ['tag-123', 'tag-124'],
      })),
    );
    expect(searchConfigs(sources, 'value-7-198')).toEqual([
      { service: 'service-7', path: 'section_19.field_198_timeout', value: 'value-7-198' },
    ]);
  });

  it('matches secrets by name only, never by value', () => {
    const hits = searchConfigs(sources.slice(0, 2), 'api_key');
    expect(hits).toEqual([
      { service: 'service-0', path: 'credentials.api_key', secret: true, set: true },
      { service: 'service-1', path: 'credentials.api_key', secret: true, set: true },
    ]);
  });

  it(`stops at ${MAX_HITS} hits, in service and key order`, () => {
    const hits = searchConfigs(sources, 'timeout');
    expect(hits).toHaveLength(MAX_HITS);
    expect(hits[0]).toMatchObject({ service: 'service-0', path: 'section_0.field_0_timeout' });
    expect(hits[MAX_HITS - 1]).toMatchObject({
      service: 'service-0',
      path: 'section_19.field_199_timeout',
    });
  });
});
