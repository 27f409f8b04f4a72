import {
  canonicalJson,
  DEDUP_WORKER_SERVICE,
  defineService,
  Describe,
  findServiceDefinition,
  MatchingConfig,
  NestedConfig,
  Secret,
  SERVICE_REGISTRY,
  serviceDefinitions,
} from '@app/contracts';
import { IsInt, Min } from 'class-validator';
import { createHash } from 'node:crypto';

function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(reverseKeys);
  }
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value)
        .reverse()
        .map(([key, child]) => [key, reverseKeys(child)]),
    );
  }
  return value;
}

class WidgetLimits {
  @Describe('Most widgets')
  @IsInt()
  @Min(1)
  max = 3;
}

class WidgetConfig {
  @Describe('Limits')
  @NestedConfig(() => WidgetLimits)
  limits = new WidgetLimits();

  @Describe('Token')
  @Secret()
  token?: string = '';
}

class WidgetConfigV2 {
  @Describe('Limits')
  @NestedConfig(() => WidgetLimits)
  limits = new WidgetLimits();

  @Describe('Token, now documented differently')
  @Secret()
  token?: string = '';
}

describe('service registry', () => {
  it('registers dedup-worker with MatchingConfig, its secret path and its map path', () => {
    const sut = findServiceDefinition(DEDUP_WORKER_SERVICE);

    expect(sut).toMatchObject({
      name: 'dedup-worker',
      schema: MatchingConfig,
      secretPaths: ['ai.api_key'],
      mapPaths: ['category_weights.overrides'],
    });
    expect(serviceDefinitions()).toBe(SERVICE_REGISTRY);
    expect(serviceDefinitions().map((definition) => definition.name)).toEqual(['dedup-worker']);
  });

  it('returns undefined for an unknown service', () => {
    expect(findServiceDefinition('nope')).toBeUndefined();
  });

  it('computes schemaHash as sha256 of the canonical JSON Schema, independent of key order', () => {
    const sut = findServiceDefinition(DEDUP_WORKER_SERVICE);
    const reordered = reverseKeys(sut?.jsonSchema);
    const recomputed = createHash('sha256').update(canonicalJson(reordered)).digest('hex');

    expect(sut?.schemaHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(sut?.schemaHash).toBe(`sha256:${recomputed}`);
  });

  it('gives the same hash for the same schema and a different one when the schema changes', () => {
    const first = defineService({ name: 'widget', description: 'w', schema: WidgetConfig });
    const again = defineService({ name: 'widget', description: 'w', schema: WidgetConfig });
    const changed = defineService({ name: 'widget', description: 'w', schema: WidgetConfigV2 });

    expect(again.schemaHash).toBe(first.schemaHash);
    expect(changed.schemaHash).not.toBe(first.schemaHash);
  });

  it('derives secret paths from @Secret()', () => {
    expect(
      defineService({ name: 'widget', description: 'w', schema: WidgetConfig }).secretPaths,
    ).toEqual(['token']);
  });

  it('rejects a service name that is not a valid topic segment', () => {
    expect(() =>
      defineService({ name: 'Widget/1', description: 'w', schema: WidgetConfig }),
    ).toThrow(/must match/);
  });

  it('freezes definitions so that no caller can change a shared schema', () => {
    const sut = findServiceDefinition(DEDUP_WORKER_SERVICE);

    expect(Object.isFrozen(sut)).toBe(true);
    expect(Object.isFrozen(sut?.jsonSchema.properties)).toBe(true);
    expect(Object.isFrozen(sut?.secretPaths)).toBe(true);
  });
});
