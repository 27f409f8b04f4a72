import { CryptoError, CryptoErrorCode } from './crypto.error';

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Decodes a standard-base64 key and checks its length. `name` is the variable or field the key
 * came from, so the error tells an operator which setting to fix; the value is never echoed.
 */
export function decodeBase64Key(value: string, expectedBytes: number, name: string): Buffer {
  const trimmed = value.trim();
  if (!BASE64.test(trimmed) || trimmed.length % 4 !== 0) {
    throw new CryptoError(CryptoErrorCode.InvalidKey, `${name} is not valid base64`);
  }
  const bytes = Buffer.from(trimmed, 'base64');
  if (bytes.length !== expectedBytes) {
    throw new CryptoError(
      CryptoErrorCode.InvalidKey,
      `${name} must decode to ${expectedBytes} bytes (got ${bytes.length})`,
    );
  }
  return bytes;
}
