import { canonicalJson } from '@app/contracts';

describe(canonicalJson.name, () => {
  const sut = canonicalJson;

  it('sorts object keys recursively and keeps array order', () => {
    expect(sut({ b: 1, a: { d: [3, 1, { z: 1, y: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[3,1,{"y":2,"z":1}]},"b":1}',
    );
  });

  it('gives the same text for the same data in any key order', () => {
    expect(sut({ x: 1, y: { b: 2, a: 1 } })).toBe(sut({ y: { a: 1, b: 2 }, x: 1 }));
  });

  it('keeps a literal __proto__ key as data', () => {
    expect(sut(JSON.parse('{"__proto__":{"x":1},"a":1}'))).toBe('{"__proto__":{"x":1},"a":1}');
  });

  it('serializes scalars like JSON.stringify', () => {
    expect(sut('a"b')).toBe('"a\\"b"');
    expect(sut(1.5)).toBe('1.5');
    expect(sut(null)).toBe('null');
  });
});
