import { createPrivateKey, createPublicKey, KeyObject, sign, verify } from 'node:crypto';
import nacl from 'tweetnacl';
import { CryptoError, CryptoErrorCode } from './crypto.error';
import { constantTimeEqual } from './hashing';

const PUBLIC_KEY_BYTES = 32;
const SECRET_KEY_BYTES = 64;
const SEED_BYTES = 32;
const SIGNATURE_BYTES = 64;
// Fixed DER headers for Ed25519 (RFC 8410): Node imports raw keys only wrapped in PKCS#8 / SPKI.
const PKCS8_SEED_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PUBLIC_KEY_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** An Ed25519 key pair in tweetnacl format: public 32 bytes, secret 64 bytes (seed || public). */
export interface SigningKeyPair {
  publicKey: Buffer;
  secretKey: Buffer;
}

/** Generates a fresh Ed25519 key pair with tweetnacl (the reference implementation). */
export function generateSigningKeyPair(): SigningKeyPair {
  const pair = nacl.sign.keyPair();
  return { publicKey: Buffer.from(pair.publicKey), secretKey: Buffer.from(pair.secretKey) };
}

/**
 * The public half of a tweetnacl secret key, after checking that the seed really derives it:
 * a secret pasted together from two different keys would otherwise sign unverifiable messages.
 */
export function signingPublicKeyOf(secretKey: Buffer, name = 'Ed25519 secret key'): Buffer {
  return importSecretKey(secretKey, name).publicKey;
}

/**
 * Signs with Node's built-in Ed25519 (the hot path). The key is imported once here, so signing
 * never re-parses key material; the signatures are byte-identical to tweetnacl's.
 */
export class Ed25519Signer {
  readonly publicKey: Buffer;
  private readonly key: KeyObject;

  constructor(secretKey: Buffer, name = 'Ed25519 secret key') {
    ({ key: this.key, publicKey: this.publicKey } = importSecretKey(secretKey, name));
  }

  /** The 64-byte detached signature of `message`. */
  sign(message: Buffer): Buffer {
    return sign(null, message, this.key);
  }
}

/**
 * Verifies with Node's built-in Ed25519, importing the public key once. Stricter than tweetnacl
 * in one way: it rejects non-canonical signatures (S >= group order) that tweetnacl accepts.
 */
export class Ed25519Verifier {
  private readonly key: KeyObject;

  constructor(publicKey: Buffer, name = 'Ed25519 public key') {
    if (publicKey.length !== PUBLIC_KEY_BYTES) {
      throw new CryptoError(
        CryptoErrorCode.InvalidKey,
        `${name} must be ${PUBLIC_KEY_BYTES} bytes (got ${publicKey.length})`,
      );
    }
    try {
      this.key = createPublicKey({
        key: Buffer.concat([SPKI_PUBLIC_KEY_PREFIX, publicKey]),
        format: 'der',
        type: 'spki',
      });
    } catch {
      // OpenSSL 3 imports any 32 bytes, but a build that checks the point must still fail typed.
      throw new CryptoError(CryptoErrorCode.InvalidKey, `${name} is not an Ed25519 public key`);
    }
  }

  /** Whether `signature` is valid for `message`; false (never a throw) for any malformed input. */
  verify(message: Buffer, signature: Buffer): boolean {
    if (signature.length !== SIGNATURE_BYTES) {
      return false;
    }
    try {
      return verify(null, message, this.key, signature);
    } catch {
      // Forged or garbage input is a normal "no", not an exception for the caller to handle.
      return false;
    }
  }
}

/** Reference detached signature with tweetnacl; used by interop tests and non-hot paths. */
export function naclSign(message: Buffer, secretKey: Buffer): Buffer {
  if (secretKey.length !== SECRET_KEY_BYTES) {
    throw new CryptoError(
      CryptoErrorCode.InvalidKey,
      `Ed25519 secret key must be ${SECRET_KEY_BYTES} bytes (got ${secretKey.length})`,
    );
  }
  return Buffer.from(nacl.sign.detached(message, secretKey));
}

/** Reference verification with tweetnacl; false (never a throw) for wrong-length inputs. */
export function naclVerify(message: Buffer, signature: Buffer, publicKey: Buffer): boolean {
  if (signature.length !== SIGNATURE_BYTES || publicKey.length !== PUBLIC_KEY_BYTES) {
    return false;
  }
  return nacl.sign.detached.verify(message, signature, publicKey);
}

// Node derives the public key from the seed far faster than tweetnacl, and the KeyObject is what
// the signer needs anyway; the interop tests prove both derive the same public key.
function importSecretKey(secretKey: Buffer, name: string): { key: KeyObject; publicKey: Buffer } {
  if (secretKey.length !== SECRET_KEY_BYTES) {
    throw new CryptoError(
      CryptoErrorCode.InvalidKey,
      `${name} must be ${SECRET_KEY_BYTES} bytes (got ${secretKey.length})`,
    );
  }
  const key = createPrivateKey({
    key: Buffer.concat([PKCS8_SEED_PREFIX, secretKey.subarray(0, SEED_BYTES)]),
    format: 'der',
    type: 'pkcs8',
  });
  const derived = createPublicKey(key)
    .export({ format: 'der', type: 'spki' })
    .subarray(SPKI_PUBLIC_KEY_PREFIX.length);
  const publicKey = Buffer.from(secretKey.subarray(SEED_BYTES));
  if (!constantTimeEqual(derived, publicKey)) {
    throw new CryptoError(
      CryptoErrorCode.InvalidKey,
      `${name} is inconsistent: its public half does not match its seed`,
    );
  }
  return { key, publicKey };
}
