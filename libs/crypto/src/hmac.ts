import { createHmac } from 'node:crypto';
import { CryptoError, CryptoErrorCode } from './crypto.error';
import { constantTimeEqual } from './hashing';

/** HMAC-SHA256 of bytes or a UTF-8 string; an empty key is refused because it authenticates nothing. */
export function hmacSha256(key: Buffer, data: Buffer | string): Buffer {
  if (key.length === 0) {
    throw new CryptoError(CryptoErrorCode.InvalidKey, 'HMAC key must not be empty');
  }
  return createHmac('sha256', key).update(data).digest();
}

/** Whether `mac` is the HMAC-SHA256 of `data`, compared in constant time so timing leaks nothing. */
export function verifyHmacSha256(key: Buffer, data: Buffer | string, mac: Buffer): boolean {
  return constantTimeEqual(hmacSha256(key, data), mac);
}
