import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { CryptoError, CryptoErrorCode } from './crypto.error';
import { sha256Hex } from './hashing';
import { decodeBase64Key } from './key-codec';

const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
// First byte of every ciphertext, so the layout can change without guessing.
const FORMAT_V1 = 1;

/** A 256-bit AES key with a stable id derived from it (stored beside each ciphertext). */
export interface MasterKey {
  readonly id: string;
  readonly key: Buffer;
}

/** Builds a master key from 32 bytes of standard base64; `name` names the setting in errors. */
export function masterKeyFromBase64(value: string, name = 'CONFIG_MASTER_KEY'): MasterKey {
  const key = decodeBase64Key(value, KEY_BYTES, name);
  return { id: masterKeyId(key), key };
}

/** The public id of a master key: a short hash, so rotating keys never needs an extra setting. */
export function masterKeyId(key: Buffer): string {
  return `mk-${sha256Hex(key).slice(0, 16)}`;
}

/**
 * Encrypts with AES-256-GCM under a fresh 96-bit nonce. `aad` binds the ciphertext to its context
 * (service and path), so a blob copied to another secret fails to open.
 * Layout: format(1) | nonce(12) | tag(16) | ciphertext.
 */
export function aesGcmEncrypt(masterKey: MasterKey, plaintext: Buffer, aad: Buffer): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', masterKey.key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([FORMAT_V1]), nonce, cipher.getAuthTag(), body]);
}

/** Opens a blob made by `aesGcmEncrypt`; throws CryptoError if the key, AAD or bytes are wrong. */
export function aesGcmDecrypt(masterKey: MasterKey, ciphertext: Buffer, aad: Buffer): Buffer {
  if (ciphertext.length < 1 + NONCE_BYTES + TAG_BYTES || ciphertext[0] !== FORMAT_V1) {
    throw new CryptoError(CryptoErrorCode.DecryptionFailed, 'ciphertext is malformed');
  }
  const nonce = ciphertext.subarray(1, 1 + NONCE_BYTES);
  const tag = ciphertext.subarray(1 + NONCE_BYTES, 1 + NONCE_BYTES + TAG_BYTES);
  const body = ciphertext.subarray(1 + NONCE_BYTES + TAG_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', masterKey.key, nonce, {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    throw new CryptoError(CryptoErrorCode.DecryptionFailed, 'ciphertext failed authentication');
  }
}

/**
 * A current key plus retired keys still accepted for decryption, so secrets stay readable while
 * they are re-encrypted under a new master key.
 */
export class MasterKeyRing {
  private readonly byId: ReadonlyMap<string, MasterKey>;

  constructor(
    readonly current: MasterKey,
    previous: readonly MasterKey[] = [],
  ) {
    this.byId = new Map([...previous, current].map((k) => [k.id, k]));
  }

  /** Whether a ciphertext encrypted under `keyId` can be decrypted with this ring. */
  has(keyId: string): boolean {
    return this.byId.has(keyId);
  }

  /** Encrypts under the current key; returns the key id to store beside the blob. */
  encrypt(plaintext: Buffer, aad: Buffer): { keyId: string; ciphertext: Buffer } {
    return { keyId: this.current.id, ciphertext: aesGcmEncrypt(this.current, plaintext, aad) };
  }

  /** Decrypts with the key named by `keyId`. */
  decrypt(keyId: string, ciphertext: Buffer, aad: Buffer): Buffer {
    const key = this.byId.get(keyId);
    if (!key) {
      throw new CryptoError(CryptoErrorCode.UnknownKeyId, `no master key with id ${keyId}`);
    }
    return aesGcmDecrypt(key, ciphertext, aad);
  }
}
