import { deepMerge } from '@app/contracts';
import fc from 'fast-check';

const MAP_PATHS = { mapPaths: ['category_weights.overrides'] };

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}

describe(deepMerge.name, () => {
  const sut = deepMerge;

  it('merges nested objects, keeping the fields the patch does not mention', () => {
    const target = { scoring: { date: 0.3, geo: 0.25 }, thresholds: { high: 0.75, low: 0.35 } };

    expect(sut(target, { scoring: { geo: 0.5 } })).toEqual({
      scoring: { date: 0.3, geo: 0.5 },
      thresholds: { high: 0.75, low: 0.35 },
    });
  });

  it('replaces arrays instead of concatenating them', () => {
    expect(sut({ priority: ['a', 'b', 'c'] }, { priority: ['z'] })).toEqual({ priority: ['z'] });
  });

  it('replaces with null outside map paths', () => {
    expect(
      sut(
        { title: { cross_source_type: { primary_weight: 0.5 } } },
        { title: { cross_source_type: null } },
        MAP_PATHS,
      ),
    ).toEqual({
      title: { cross_source_type: null },
    });
  });

  it('replaces a scalar with an object and an object with a scalar', () => {
    expect(sut({ a: 1, b: { c: 1 } }, { a: { x: 1 }, b: 2 })).toEqual({ a: { x: 1 }, b: 2 });
  });

  it('deletes a map entry given null, and merges a map entry given an object', () => {
    const target = {
      category_weights: {
        priority: ['music'],
        overrides: { music: { date: 0.4, geo: 0.2 }, art: { date: 0.1 } },
      },
    };

    const merged = sut(
      target,
      { category_weights: { overrides: { art: null, music: { geo: 0.3 } } } },
      MAP_PATHS,
    );

    expect(merged).toEqual({
      category_weights: { priority: ['music'], overrides: { music: { date: 0.4, geo: 0.3 } } },
    });
  });

  it('keeps null as a value for a map entry when the path is not a map path', () => {
    expect(sut({ overrides: { art: { date: 0.1 } } }, { overrides: { art: null } })).toEqual({
      overrides: { art: null },
    });
  });

  it('accepts a ServiceDefinition-like object as options', () => {
    const definition = { name: 'x', mapPaths: ['m'] as const };

    expect(sut({ m: { a: 1, b: 2 } }, { m: { a: null } }, definition)).toEqual({ m: { b: 2 } });
  });

  it('ignores undefined in the patch', () => {
    expect(sut({ a: 1 }, { a: undefined })).toEqual({ a: 1 });
  });

  it('never mutates its inputs and shares no objects with them', () => {
    const target = deepFreeze({ a: { b: [1, { c: 2 }] }, keep: { x: 1 } });
    const patch = deepFreeze({ a: { d: { e: 3 } }, list: [{ f: 4 }] });

    const merged = sut(target, patch) as {
      a: { b: [number, { c: number }]; d: { e: number } };
      keep: { x: number };
      list: { f: number }[];
    };
    merged.a.b[1].c = 99;
    merged.a.d.e = 99;
    merged.keep.x = 99;
    merged.list[0].f = 99;

    expect(target).toEqual({ a: { b: [1, { c: 2 }] }, keep: { x: 1 } });
    expect(patch).toEqual({ a: { d: { e: 3 } }, list: [{ f: 4 }] });
  });

  it('does not pollute Object.prototype through __proto__, constructor or prototype keys', () => {
    const patch = JSON.parse(
      '{"__proto__":{"polluted":1},"a":{"__proto__":{"polluted":2},"constructor":{"prototype":{"polluted":3}}}}',
    ) as Record<string, unknown>;

    const merged = sut({ a: {} }, patch);

    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(merged).toEqual({ a: {} });
    expect(Object.keys(merged.a as object)).toEqual([]);
  });

  it('does not treat inherited members such as toString as existing values', () => {
    expect(sut({}, { toString: { a: 1 } })).toEqual({ toString: { a: 1 } });
  });

  it('refuses values nested deeper than it can safely copy', () => {
    let deep: Record<string, unknown> = {};
    for (let level = 0; level < 100; level++) {
      deep = { a: deep };
    }

    expect(() => sut({}, deep)).toThrow(RangeError);
  });

  it('returns a deep copy equal to the target when the patch is empty', () => {
    const safeKey = fc
      .string()
      .filter((key) => !['__proto__', 'constructor', 'prototype'].includes(key));
    const json = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.constant(null),
        fc.boolean(),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.string(),
        fc.array(tie('value')),
        tie('object'),
      ),
      object: fc.dictionary(safeKey, tie('value')),
    }));

    fc.assert(
      fc.property(json.object, (target) => {
        const merged = sut(target, {});

        expect(merged).toEqual(target);
        expect(merged).not.toBe(target);
      }),
    );
  });
});
