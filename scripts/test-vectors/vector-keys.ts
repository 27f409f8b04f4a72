import nacl from 'tweetnacl';
import { ENVELOPE_ALG, type SealedSecretJson, type SignedEnvelope } from '@app/contracts';
import { Ed25519Signer, SEALED_SECRET_ALG, sha256 } from '@app/crypto';

/** The `issuedAt` of every payload in the vectors. */
export const ISSUED_AT = '2026-11-21T20:00:00.000Z';

/** An Ed25519 key pair in tweetnacl format with the key id it signs under. */
export interface VectorSigningKey {
  readonly kid: string;
  readonly publicKey: Buffer;
  readonly secretKey: Buffer;
}

/** An X25519 key pair (tweetnacl format). */
export interface VectorBoxKey {
  readonly publicKey: Buffer;
  readonly secretKey: Buffer;
}

/** Every key of the vectors (keys.json): two trusted signing keys, one untrusted, two recipients. */
export interface VectorKeys {
  readonly signing: VectorSigningKey;
  readonly retiredSigning: VectorSigningKey;
  readonly untrusted: VectorSigningKey;
  readonly recipient: VectorBoxKey;
  readonly otherRecipient: VectorBoxKey;
}

/** What a raw MQTT message is in the files: its text when it is UTF-8, else its bytes. */
export type VectorMessage = { readonly utf8: string } | { readonly base64: string };

// Every "random" byte of the vectors comes from a label, so a regeneration gives the same files.
function bytesOf(label: string, length = 32): Buffer {
  return sha256(`config-centre test vectors: ${label}`).subarray(0, length);
}

function signingKey(kid: string): VectorSigningKey {
  const pair = nacl.sign.keyPair.fromSeed(bytesOf(`signing ${kid}`));
  return { kid, publicKey: Buffer.from(pair.publicKey), secretKey: Buffer.from(pair.secretKey) };
}

function boxKey(label: string): VectorBoxKey {
  const pair = nacl.box.keyPair.fromSecretKey(bytesOf(`box ${label}`));
  return { publicKey: Buffer.from(pair.publicKey), secretKey: Buffer.from(pair.secretKey) };
}

/** The fixed keys of the vectors, derived from fixed seeds. */
export function vectorKeys(): VectorKeys {
  return {
    signing: signingKey('vector-2026-11'),
    retiredSigning: signingKey('vector-2026-05'),
    untrusted: signingKey('vector-untrusted'),
    recipient: boxKey('recipient'),
    otherRecipient: boxKey('other-recipient'),
  };
}

/** keys.json: every key in standard base64. */
/** The keys a vector worker trusts (the current and the retired signing key), by key id. */
export function trustedKeyMap(keys: VectorKeys): Map<string, Buffer> {
  return new Map([
    [keys.signing.kid, keys.signing.publicKey],
    [keys.retiredSigning.kid, keys.retiredSigning.publicKey],
  ]);
}

/** The same trusted keys as a vector file states them: `{ "<kid>": "<base64 public key>" }`. */
export function trustedKeysJson(keys: VectorKeys): Record<string, string> {
  return Object.fromEntries(
    [...trustedKeyMap(keys)].map(([kid, key]) => [kid, key.toString('base64')]),
  );
}

export function keysFile(keys: VectorKeys): Record<string, unknown> {
  const signing = (key: VectorSigningKey) => ({
    kid: key.kid,
    publicKey: key.publicKey.toString('base64'),
    secretKey: key.secretKey.toString('base64'),
  });
  const box = (key: VectorBoxKey) => ({
    publicKey: key.publicKey.toString('base64'),
    secretKey: key.secretKey.toString('base64'),
  });
  return {
    signing: signing(keys.signing),
    retiredSigning: signing(keys.retiredSigning),
    untrusted: signing(keys.untrusted),
    recipient: box(keys.recipient),
    otherRecipient: box(keys.otherRecipient),
  };
}

/**
 * Seals `plaintext` as libs/crypto's sealSecret does (NaCl box from a one-time X25519 key pair to
 * the recipient), but with the ephemeral key and nonce derived from `label`: the same box on
 * every run.
 */
export function sealWithLabel(
  label: string,
  plaintext: string | Buffer,
  recipientPublicKey: Buffer,
): SealedSecretJson {
  const ephemeral = nacl.box.keyPair.fromSecretKey(bytesOf(`ephemeral ${label}`));
  const nonce = bytesOf(`nonce ${label}`, nacl.box.nonceLength);
  const message = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
  const box = nacl.box(message, nonce, recipientPublicKey, ephemeral.secretKey);
  return {
    alg: SEALED_SECRET_ALG,
    epk: Buffer.from(ephemeral.publicKey).toString('base64'),
    nonce: nonce.toString('base64'),
    box: Buffer.from(box).toString('base64'),
  };
}

/**
 * The envelope around `payload` (an object, serialised once with JSON.stringify as the manager's
 * EnvelopeBuilderService does, or exact bytes), signed with libs/crypto's Ed25519Signer.
 * `claims` changes what the envelope says (its alg or kid) without changing who signs.
 */
export function signedEnvelope(
  payload: object | Buffer,
  signer: VectorSigningKey,
  claims: { readonly alg?: string; readonly kid?: string } = {},
): SignedEnvelope {
  const bytes = Buffer.isBuffer(payload) ? payload : Buffer.from(JSON.stringify(payload), 'utf8');
  return {
    alg: (claims.alg ?? ENVELOPE_ALG) as typeof ENVELOPE_ALG,
    kid: claims.kid ?? signer.kid,
    payload: bytes.toString('base64'),
    sig: new Ed25519Signer(signer.secretKey).sign(bytes).toString('base64'),
  };
}

/** The bytes of an envelope (or any JSON value) as the manager publishes them. */
export function jsonBytes(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/** A message as the files write it. */
export function messageOf(bytes: Buffer): VectorMessage {
  let text: string | undefined;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    text = undefined;
  }
  // A decoder drops a leading BOM: such a message is written as bytes, to stay exact.
  return text !== undefined && Buffer.from(text, 'utf8').equals(bytes)
    ? { utf8: text }
    : { base64: bytes.toString('base64') };
}

/** The bytes of a message as the files write it. */
export function bytesOfMessage(message: VectorMessage): Buffer {
  return 'utf8' in message
    ? Buffer.from(message.utf8, 'utf8')
    : Buffer.from(message.base64, 'base64');
}
