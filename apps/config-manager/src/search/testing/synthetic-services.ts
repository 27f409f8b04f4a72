import type { SearchSource } from '../search-configs';

/**
 * `count` services of `keys` leaves each, shaped like real configs: sections of ten fields
 * holding numbers, booleans, strings and short lists.
 */
export function syntheticServices(count: number, keys: number): SearchSource[] {
  return Array.from({ length: count }, (_, s) => {
    const config: Record<string, Record<string, unknown>> = {};
    for (let k = 0; k < keys; k++) {
      const section = `section_${Math.floor(k / 10)}`;
      const value =
        k % 4 === 0
          ? k / 1000
          : k % 4 === 1
            ? k % 3 === 0
            : k % 4 === 2
              ? `value-${s}-${k}`
              : [`tag-${k}`, `tag-${k + 1}`];
      config[section] = { ...config[section], [`field_${k}_timeout`]: value };
    }
    return {
      service: `service-${s}`,
      config,
      secretPaths: ['credentials.api_key'],
      secretSet: () => true,
    };
  });
}
