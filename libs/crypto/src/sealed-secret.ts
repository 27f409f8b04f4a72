import { randomBytes } from 'node:crypto';
import nacl from 'tweetnacl';
import { CryptoError, CryptoErrorCode } from './crypto.error';
import { decodeStrictBase64 } from './key-codec';

/** The only algorithm a sealed secret may name (the `alg` field of the envelope's secrets). */
export const SEALED_SECRET_ALG = 'x25519-xsalsa20-poly1305';

const KEY_BYTES = 32;
const NONCE_BYTES = 24;
// Poly1305 tag in front of the ciphertext: an empty secret still seals to 16 bytes.
const MAC_BYTES = 16;

/** A secret sealed to one recipient's X25519 key; every field but `alg` is standard base64. */
export interface SealedSecret {
  alg: typeof SEALED_SECRET_ALG;
  epk: string;
  nonce: string;
  box: string;
}

/** An X25519 key pair in tweetnacl format: public and secret 32 bytes each. */
export interface BoxKeyPair {
  publicKey: Buffer;
  secretKey: Buffer;
}

/** Generates a fresh X25519 key pair with tweetnacl. */
export function generateBoxKeyPair(): BoxKeyPair {
  const pair = nacl.box.keyPair();
  return { publicKey: Buffer.from(pair.publicKey), secretKey: Buffer.from(pair.secretKey) };
}

/** The X25519 public key belonging to a 32-byte secret key. */
export function boxPublicKeyOf(secretKey: Buffer, name = 'X25519 secret key'): Buffer {
  requireLength(secretKey, name);
  return Buffer.from(nacl.box.keyPair.fromSecretKey(secretKey).publicKey);
}

/**
 * Seals `plaintext` (UTF-8 if a string) to `recipientPublicKey` with a fresh ephemeral key pair and
 * nonce, so two seals of the same value are unlinkable and the sender keeps no long-term box key.
 */
export function sealSecret(plaintext: string | Buffer, recipientPublicKey: Buffer): SealedSecret {
  requireLength(recipientPublicKey, 'recipient X25519 public key');
  const ephemeral = nacl.box.keyPair();
  try {
    // A low-order recipient key makes the shared secret all zeros: anyone could open the box.
    if (nacl.scalarMult(ephemeral.secretKey, recipientPublicKey).every((byte) => byte === 0)) {
      throw new CryptoError(
        CryptoErrorCode.InvalidKey,
        'recipient X25519 public key is a low-order point',
      );
    }
    const nonce = randomBytes(NONCE_BYTES);
    const message = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
    const box = nacl.box(message, nonce, recipientPublicKey, ephemeral.secretKey);
    return {
      alg: SEALED_SECRET_ALG,
      epk: Buffer.from(ephemeral.publicKey).toString('base64'),
      nonce: nonce.toString('base64'),
      box: Buffer.from(box).toString('base64'),
    };
  } finally {
    // Best effort: the ephemeral secret is useless after sealing, so do not leave it in the heap.
    ephemeral.secretKey.fill(0);
  }
}

/**
 * Validates and opens a sealed secret from untrusted JSON. Throws only CryptoError:
 * MalformedSealedSecret for a bad shape, SealedSecretDoesNotOpen for a wrong key or tampering.
 */
export function openSealedSecret(sealed: unknown, recipientSecretKey: Buffer): Buffer {
  requireLength(recipientSecretKey, 'recipient X25519 secret key');
  let parts: { epk: Buffer; nonce: Buffer; box: Buffer };
  try {
    parts = readSealedSecret(sealed);
  } catch (error) {
    if (error instanceof CryptoError) {
      throw error;
    }
    // A hostile object (throwing getter, proxy) must still surface as a typed rejection.
    throw malformed('could not be read');
  }
  const opened = nacl.box.open(parts.box, parts.nonce, parts.epk, recipientSecretKey);
  if (!opened) {
    throw new CryptoError(
      CryptoErrorCode.SealedSecretDoesNotOpen,
      'sealed secret does not open with this key (wrong recipient or tampered)',
    );
  }
  return Buffer.from(opened);
}

function readSealedSecret(sealed: unknown): { epk: Buffer; nonce: Buffer; box: Buffer } {
  if (typeof sealed !== 'object' || sealed === null || Array.isArray(sealed)) {
    throw malformed('is not an object');
  }
  const fields = sealed as Record<string, unknown>;
  // The value is not echoed: it is attacker-controlled and may be arbitrarily long.
  if (ownField(fields, 'alg') !== SEALED_SECRET_ALG) {
    throw malformed(`alg must be ${SEALED_SECRET_ALG}`);
  }
  return {
    epk: decodeField(fields, 'epk', KEY_BYTES, `${KEY_BYTES}`),
    nonce: decodeField(fields, 'nonce', NONCE_BYTES, `${NONCE_BYTES}`),
    box: decodeField(fields, 'box', MAC_BYTES, `at least ${MAC_BYTES}`, Infinity),
  };
}

function decodeField(
  fields: Record<string, unknown>,
  field: string,
  minBytes: number,
  expected: string,
  maxBytes = minBytes,
): Buffer {
  const value = ownField(fields, field);
  if (typeof value !== 'string') {
    throw malformed(`${field} must be a base64 string`);
  }
  const bytes = decodeStrictBase64(value);
  if (!bytes) {
    throw malformed(`${field} is not valid base64`);
  }
  if (bytes.length < minBytes || bytes.length > maxBytes) {
    throw malformed(`${field} must decode to ${expected} bytes (got ${bytes.length})`);
  }
  return bytes;
}

// Own properties only, so a polluted Object.prototype cannot supply a missing field.
function ownField(fields: Record<string, unknown>, field: string): unknown {
  return Object.hasOwn(fields, field) ? fields[field] : undefined;
}

function requireLength(key: Buffer, name: string): void {
  if (key.length !== KEY_BYTES) {
    throw new CryptoError(
      CryptoErrorCode.InvalidKey,
      `${name} must be ${KEY_BYTES} bytes (got ${key.length})`,
    );
  }
}

function malformed(problem: string): CryptoError {
  return new CryptoError(CryptoErrorCode.MalformedSealedSecret, `sealed secret ${problem}`);
}
