import { randomBytes } from 'node:crypto';
import { decodeBase64Key, decodeStrictBase64 } from './key-codec';

describe(decodeStrictBase64.name, () => {
  const sut = decodeStrictBase64;

  it('decodes canonical padded standard base64', () => {
    const bytes = randomBytes(33);
    expect(sut(bytes.toString('base64'))).toEqual(bytes);
    expect(sut('AA==')).toEqual(Buffer.from([0]));
  });

  it.each([
    ['', 'empty'],
    ['AA', 'unpadded'],
    ['AB==', 'non-zero trailing bits'],
    ['AA==\n', 'whitespace'],
    ['-_8=', 'base64url alphabet'],
    ['A===', 'impossible padding'],
  ])('rejects %j (%s)', (value) => {
    expect(sut(value)).toBeUndefined();
  });
});

describe(decodeBase64Key.name, () => {
  it('trims surrounding whitespace but still refuses a non-canonical spelling', () => {
    const key = randomBytes(32);
    expect(decodeBase64Key(` ${key.toString('base64')}\n`, 32, 'K')).toEqual(key);
    const nonCanonical = `${key.toString('base64').slice(0, 42)}B=`;
    expect(() => decodeBase64Key(nonCanonical, 32, 'K')).toThrow('K is not valid base64');
  });
});
