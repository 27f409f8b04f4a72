import { CryptoError } from '../../src/crypto.error';

/** The CryptoError `action` throws; fails the test if it throws nothing or something else. */
export function thrown(action: () => unknown): CryptoError {
  try {
    action();
  } catch (error) {
    if (error instanceof CryptoError) {
      return error;
    }
    throw error;
  }
  throw new Error('expected a CryptoError, nothing was thrown');
}
