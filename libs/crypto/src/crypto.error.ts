/** Codes for every way a cryptographic operation can fail; callers map them to their transport. */
export enum CryptoErrorCode {
  InvalidKey = 'INVALID_KEY',
  DecryptionFailed = 'DECRYPTION_FAILED',
  UnknownKeyId = 'UNKNOWN_KEY_ID',
  MalformedSealedSecret = 'MALFORMED_SEALED_SECRET',
  SealedSecretDoesNotOpen = 'SEALED_SECRET_DOES_NOT_OPEN',
}

/** A failure in libs/crypto; its message never contains key material or plaintext. */
export class CryptoError extends Error {
  constructor(
    readonly code: CryptoErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CryptoError';
  }
}
