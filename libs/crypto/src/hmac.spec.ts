import { createHmac, randomBytes } from 'node:crypto';
import { CryptoErrorCode } from './crypto.error';
import { hmacSha256, verifyHmacSha256 } from './hmac';

const key = randomBytes(32);
const data = Buffer.from('{"version":12,"envelope":"..."}');

describe(hmacSha256.name, () => {
  it('matches the RFC 4231 test case 2 vector', () => {
    expect(hmacSha256(Buffer.from('Jefe'), 'what do ya want for nothing?').toString('hex')).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });

  it('treats a string as its UTF-8 bytes', () => {
    expect(hmacSha256(key, 'größe')).toEqual(hmacSha256(key, Buffer.from('größe', 'utf8')));
  });

  it('refuses an empty key', () => {
    expect(() => hmacSha256(Buffer.alloc(0), data)).toThrow(
      expect.objectContaining({ code: CryptoErrorCode.InvalidKey }),
    );
  });
});

describe(verifyHmacSha256.name, () => {
  const sut = verifyHmacSha256;
  const mac = createHmac('sha256', key).update(data).digest();

  it('accepts the right mac', () => {
    expect(sut(key, data, mac)).toBe(true);
  });

  it('rejects a flipped bit in the mac, the data or the key', () => {
    for (let bit = 0; bit < mac.length * 8; bit += 37) {
      const flipped = Buffer.from(mac);
      flipped[bit >> 3] ^= 1 << (bit & 7);
      expect(sut(key, data, flipped)).toBe(false);
    }
    const otherData = Buffer.from(data);
    otherData[0] ^= 1;
    const otherKey = Buffer.from(key);
    otherKey[31] ^= 0x80;

    expect(sut(key, otherData, mac)).toBe(false);
    expect(sut(otherKey, data, mac)).toBe(false);
  });

  it('rejects a truncated, an extended and an empty mac', () => {
    expect(sut(key, data, mac.subarray(0, 16))).toBe(false);
    expect(sut(key, data, mac.subarray(0, 31))).toBe(false);
    expect(sut(key, data, Buffer.concat([mac, Buffer.alloc(1)]))).toBe(false);
    expect(sut(key, data, Buffer.alloc(0))).toBe(false);
  });
});
