import { randomBytes } from 'node:crypto';
import { CryptoError, CryptoErrorCode } from './crypto.error';
import { aesGcmDecrypt, aesGcmEncrypt, masterKeyFromBase64, MasterKeyRing } from './aes-gcm';

const keyFactory = () => masterKeyFromBase64(randomBytes(32).toString('base64'));
const aad = Buffer.from('dedup-worker\0ai.api_key');

describe(aesGcmEncrypt.name, () => {
  it('round-trips and never stores the plaintext', () => {
    const key = keyFactory();
    const plaintext = Buffer.from('sk-live-very-secret');

    const ciphertext = aesGcmEncrypt(key, plaintext, aad);

    expect(ciphertext.includes(plaintext)).toBe(false);
    expect(aesGcmDecrypt(key, ciphertext, aad).toString()).toBe('sk-live-very-secret');
  });

  it('uses a fresh nonce for every encryption', () => {
    const key = keyFactory();
    const nonces = new Set(
      Array.from({ length: 200 }, () =>
        aesGcmEncrypt(key, Buffer.from('same'), aad).subarray(1, 13).toString('hex'),
      ),
    );
    expect(nonces.size).toBe(200);
  });

  it('refuses a blob moved to another service or path (AAD binding)', () => {
    const key = keyFactory();
    const ciphertext = aesGcmEncrypt(key, Buffer.from('v'), aad);
    expect(() => aesGcmDecrypt(key, ciphertext, Buffer.from('other\0ai.api_key'))).toThrow(
      CryptoError,
    );
  });

  it('refuses a tampered blob and a wrong key', () => {
    const key = keyFactory();
    const ciphertext = aesGcmEncrypt(key, Buffer.from('value'), aad);
    const tampered = Buffer.from(ciphertext);
    tampered[tampered.length - 1] ^= 1;
    expect(() => aesGcmDecrypt(key, tampered, aad)).toThrow(/failed authentication/);
    expect(() => aesGcmDecrypt(keyFactory(), ciphertext, aad)).toThrow(/failed authentication/);
    expect(() => aesGcmDecrypt(key, ciphertext.subarray(0, 10), aad)).toThrow(/malformed/);
  });
});

describe(masterKeyFromBase64.name, () => {
  it('names the setting and the length, never the value', () => {
    const short = randomBytes(16).toString('base64');
    let error: unknown;
    try {
      masterKeyFromBase64(short, 'CONFIG_MASTER_KEY');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CryptoError);
    expect((error as CryptoError).message).toBe(
      'CONFIG_MASTER_KEY must decode to 32 bytes (got 16)',
    );
    expect((error as CryptoError).message).not.toContain(short);
    expect(() => masterKeyFromBase64('not base64!!', 'X')).toThrow('X is not valid base64');
  });

  it('derives the same id for the same key and different ids for different keys', () => {
    const b64 = randomBytes(32).toString('base64');
    expect(masterKeyFromBase64(b64).id).toBe(masterKeyFromBase64(b64).id);
    expect(masterKeyFromBase64(b64).id).not.toBe(keyFactory().id);
  });
});

describe(MasterKeyRing.name, () => {
  it('decrypts blobs of a previous key and encrypts under the current one', () => {
    const old = keyFactory();
    const current = keyFactory();
    const legacy = new MasterKeyRing(old).encrypt(Buffer.from('v1'), aad);
    const sut = new MasterKeyRing(current, [old]);

    expect(sut.decrypt(legacy.keyId, legacy.ciphertext, aad).toString()).toBe('v1');
    expect(sut.encrypt(Buffer.from('v2'), aad).keyId).toBe(current.id);
  });

  it('reports an unknown key id with its code', () => {
    const sut = new MasterKeyRing(keyFactory());
    expect(() => sut.decrypt('mk-0000', Buffer.alloc(40), aad)).toThrow(
      expect.objectContaining({ code: CryptoErrorCode.UnknownKeyId }),
    );
  });
});
