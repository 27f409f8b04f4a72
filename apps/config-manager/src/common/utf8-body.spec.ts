import { findInvalidUtf8, jsonPathAt } from './utf8-body';

describe(findInvalidUtf8.name, () => {
  const sut = findInvalidUtf8;
  const body = (...parts: Array<string | number[]>) =>
    Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

  it('finds nothing in UTF-8, astral characters included', () => {
    expect(sut(Buffer.from('{"a":"😀❤️é"}'))).toBeUndefined();
  });

  it.each([
    ['a truncated sequence', [0xc3, 0x28]],
    ['a lone continuation byte', [0x80]],
    ['an overlong encoding', [0xc0, 0xaf]],
    ['an encoded surrogate', [0xed, 0xa0, 0x80]],
    ['a code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['0xff', [0xff]],
  ])('reports %s at the byte where it starts, with the path', (_, bad) => {
    expect(sut(body('{"x":[1,{"k":"é', bad, '"}]}'))).toEqual({
      offset: Buffer.byteLength('{"x":[1,{"k":"é'),
      path: 'x.1.k',
      inKey: false,
    });
  });

  it('says when the bytes are in a key', () => {
    expect(sut(body('{"a":{"b":1,"c', [0xff], '":2}}'))).toEqual({
      offset: 14,
      path: 'a',
      inKey: true,
    });
  });
});

describe(jsonPathAt.name, () => {
  it('follows objects, arrays, escaped quotes and closed containers', () => {
    expect(jsonPathAt('')).toEqual({ path: '', inKey: false });
    expect(jsonPathAt('{"a":{"b":[0,[1],"x\\"y",')).toEqual({ path: 'a.b.3', inKey: false });
    expect(jsonPathAt('{"a":{"b":1},"c":"')).toEqual({ path: 'c', inKey: false });
  });
});
