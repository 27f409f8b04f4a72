import {
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  randomBytes,
} from 'node:crypto';
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
  const ephemeral = generateKeyPairSync('x25519');
  // A low-order recipient key makes the shared secret all zeros (anyone could open the box):
  // X25519 refuses to derive it.
  const key = boxKey(ephemeral.privateKey, recipientPublicKey);
  if (!key) {
    throw new CryptoError(
      CryptoErrorCode.InvalidKey,
      'recipient X25519 public key is a low-order point',
    );
  }
  try {
    const nonce = randomBytes(NONCE_BYTES);
    const message = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
    const box = nacl.secretbox(message, nonce, key);
    return {
      alg: SEALED_SECRET_ALG,
      epk: spkiKey(ephemeral.publicKey).toString('base64'),
      nonce: nonce.toString('base64'),
      box: Buffer.from(box).toString('base64'),
    };
  } finally {
    // Best effort: the box key is useless after sealing, so do not leave it in the heap.
    key.fill(0);
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
  const key = boxKey(x25519PrivateKey(recipientSecretKey), parts.epk);
  const opened = key && nacl.secretbox.open(parts.box, parts.nonce, key);
  key?.fill(0);
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

// DER framing of raw X25519 keys (RFC 8410), so Node's native X25519 can use tweetnacl-format keys.
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const X25519_SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');
// crypto_box's HSalsa20 constant and input (tweetnacl's box.before).
const SIGMA = new Uint8Array(Buffer.from('expand 32-byte k', 'latin1'));
const ZERO_16 = new Uint8Array(16);
// tweetnacl exports its primitives as `lowlevel` at run time; its typings leave them out.
const hsalsa20 = (
  nacl as unknown as {
    lowlevel: {
      crypto_core_hsalsa20: (
        out: Uint8Array,
        input: Uint8Array,
        key: Uint8Array,
        c: Uint8Array,
      ) => void;
    };
  }
).lowlevel.crypto_core_hsalsa20;

/**
 * crypto_box_beforenm (what nacl.box uses inside): HSalsa20 of the X25519 shared secret, with
 * X25519 from Node's OpenSSL (0.1 ms) instead of tweetnacl's JavaScript (1 ms, most of a
 * worker's cost of opening a secret). Byte for byte the same key; undefined when the shared
 * secret would be all zeros (a low-order point), which OpenSSL refuses to derive.
 */
function boxKey(
  privateKey: ReturnType<typeof createPrivateKey>,
  publicKey: Buffer,
): Uint8Array | undefined {
  let shared: Buffer;
  try {
    shared = diffieHellman({
      privateKey,
      publicKey: createPublicKey({
        key: { kty: 'OKP', crv: 'X25519', x: publicKey.toString('base64url') },
        format: 'jwk',
      }),
    });
  } catch {
    return undefined;
  }
  const key = new Uint8Array(KEY_BYTES);
  hsalsa20(key, ZERO_16, new Uint8Array(shared), SIGMA);
  shared.fill(0);
  return key;
}

// Importing a private key costs 0.6 ms: a recipient's key is imported once.
const privateKeys = new WeakMap<Buffer, ReturnType<typeof createPrivateKey>>();

function x25519PrivateKey(secretKey: Buffer): ReturnType<typeof createPrivateKey> {
  let key = privateKeys.get(secretKey);
  if (!key) {
    key = createPrivateKey({
      key: Buffer.concat([X25519_PKCS8_PREFIX, secretKey]),
      format: 'der',
      type: 'pkcs8',
    });
    privateKeys.set(secretKey, key);
  }
  return key;
}

function spkiKey(publicKey: ReturnType<typeof createPublicKey>): Buffer {
  return publicKey.export({ format: 'der', type: 'spki' }).subarray(X25519_SPKI_PREFIX.length);
}
