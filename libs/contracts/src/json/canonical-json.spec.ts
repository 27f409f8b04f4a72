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

  it('sorts integer-like keys by code units too, not first in numeric order as objects list them', () => {
    expect(sut({ b: 1, '10': 2, '9': 3, a: { '2': 0, '10': 1 } })).toBe(
      '{"10":2,"9":3,"a":{"10":1,"2":0},"b":1}',
    );
  });

  it('writes what JSON.stringify writes for dates, undefined members and array holes', () => {
    expect(sut({ at: new Date(0), gone: undefined, list: [undefined, 1] })).toBe(
      '{"at":"1970-01-01T00:00:00.000Z","list":[null,1]}',
    );
    expect(sut(undefined)).toBe('null');
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
