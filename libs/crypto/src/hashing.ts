import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Lower-case hex SHA-256 of the given bytes or UTF-8 string. */
export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** SHA-256 digest as bytes. */
export function sha256(data: string | Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

/** Compares two byte strings in constant time (length differences return false without early exit on content). */
export function constantTimeEqual(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) {
    // Still spend comparable time so length is the only thing that leaks.
    timingSafeEqual(a, a);
    return false;
  }
  return timingSafeEqual(a, b);
}

/** Fresh random bytes, base64-encoded (keys, tokens). */
export function randomBase64(bytes: number): string {
  return randomBytes(bytes).toString('base64');
}

/** Fresh random token safe for URLs and headers. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
