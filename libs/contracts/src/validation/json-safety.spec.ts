import { checkJsonSafety, MAX_CONFIG_DEPTH } from '@app/contracts';

function nested(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = {};
  for (let level = 1; level < depth; level++) {
    value = { a: value };
  }
  return value;
}

describe(checkJsonSafety.name, () => {
  const sut = checkJsonSafety;

  it('accepts ordinary JSON, including keys that merely look special', () => {
    expect(sut({ a: [1, { b: null }], toString: 'x', __proto: 1 })).toEqual([]);
  });

  it('reports each forbidden key at its path', () => {
    const input: unknown = JSON.parse(
      '{"__proto__":{},"a":[{"constructor":1}],"b":{"prototype":2}}',
    );

    expect(sut(input)).toEqual([
      { path: '__proto__', message: '__proto__ is a forbidden key' },
      { path: 'a.0.constructor', message: 'a.0.constructor is a forbidden key' },
      { path: 'b.prototype', message: 'b.prototype is a forbidden key' },
    ]);
  });

  it(`allows ${MAX_CONFIG_DEPTH} levels and refuses one more`, () => {
    expect(sut(nested(MAX_CONFIG_DEPTH))).toEqual([]);
    expect(sut(nested(MAX_CONFIG_DEPTH + 1))).toEqual([
      {
        path: 'a'.repeat(MAX_CONFIG_DEPTH).split('').join('.'),
        message: expect.stringMatching(/deeper than 32/) as string,
      },
    ]);
  });

  it('caps the number of issues a hostile document can produce', () => {
    const input: unknown = JSON.parse(
      `[${Array.from({ length: 1000 }, () => '{"__proto__":1}').join(',')}]`,
    );

    expect(sut(input).length).toBeLessThanOrEqual(20);
  });
});

describe('well-formed Unicode', () => {
  const sut = checkJsonSafety;

  it('refuses a lone surrogate in a value or a key, naming the path (escaped for keys)', () => {
    const input: unknown = JSON.parse(
      '{"ai":{"model":"gem\\ud800ini"},"category_weights":{"priority":["ok","\\udc00"]},"k\\ud83d":1}',
    );

    expect(sut(input).map((issue) => issue.path)).toEqual([
      'ai.model',
      'category_weights.priority.1',
      'k\\ud83d',
    ]);
    expect(sut(input)[0].message).toBe(
      'ai.model is not well-formed Unicode (it holds a lone surrogate, which UTF-8 cannot encode)',
    );
    expect(JSON.stringify(sut(input))).not.toMatch(/[\ud800-\udfff]/);
  });

  it('accepts astral characters, emoji sequences and combining marks', () => {
    expect(sut({ 'music😀': ['❤️', 'e\u0301', '👍🏽', '👩‍👩‍👧', '\u{10FFFF}'] })).toEqual([]);
  });

  it('checks a bare string document too', () => {
    expect(sut('\ud800')).toEqual([
      expect.objectContaining({
        path: '',
        message: expect.stringMatching(/^the document is not/) as unknown,
      }) as unknown,
    ]);
  });
});
