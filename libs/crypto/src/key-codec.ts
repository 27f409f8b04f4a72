import { CryptoError, CryptoErrorCode } from './crypto.error';

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Decodes canonical standard base64 (padded, no whitespace), or returns undefined. Canonical
 * means re-encoding gives the same text, so one byte string has exactly one accepted spelling.
 */
export function decodeStrictBase64(value: string): Buffer | undefined {
  if (!BASE64.test(value) || value.length % 4 !== 0) {
    return undefined;
  }
  const bytes = Buffer.from(value, 'base64');
  // Node's decoder silently ignores stray trailing bits; the round trip catches them.
  return bytes.toString('base64') === value ? bytes : undefined;
}

/**
 * Decodes a standard-base64 key and checks its length. `name` is the variable or field the key
 * came from, so the error tells an operator which setting to fix; the value is never echoed.
 */
export function decodeBase64Key(value: string, expectedBytes: number, name: string): Buffer {
  const bytes = decodeStrictBase64(value.trim());
  if (!bytes) {
    throw new CryptoError(CryptoErrorCode.InvalidKey, `${name} is not valid base64`);
  }
  if (bytes.length !== expectedBytes) {
    throw new CryptoError(
      CryptoErrorCode.InvalidKey,
      `${name} must decode to ${expectedBytes} bytes (got ${bytes.length})`,
    );
  }
  return bytes;
}
