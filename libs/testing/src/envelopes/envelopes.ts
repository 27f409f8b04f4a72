import { ENVELOPE_ALG, type ConfigPayload, type SignedEnvelope } from '@app/contracts';
import { Ed25519Signer, naclVerify } from '@app/crypto';

/** Parses an envelope as any worker would: JSON, then the base64 payload bytes. */
export function readEnvelope(bytes: Buffer): {
  envelope: SignedEnvelope;
  payloadBytes: Buffer;
  payload: ConfigPayload;
} {
  const envelope = JSON.parse(bytes.toString('utf8')) as SignedEnvelope;
  const payloadBytes = Buffer.from(envelope.payload, 'base64');
  return {
    envelope,
    payloadBytes,
    payload: JSON.parse(payloadBytes.toString('utf8')) as ConfigPayload,
  };
}

/** Verifies with tweetnacl (the reference implementation) against a base64 public key. */
export function verifiesWith(bytes: Buffer, publicKeyB64: string): boolean {
  const { envelope, payloadBytes } = readEnvelope(bytes);
  return naclVerify(
    payloadBytes,
    Buffer.from(envelope.sig, 'base64'),
    Buffer.from(publicKeyB64, 'base64'),
  );
}

/** Who signs an envelope: the key id it names, the Ed25519 secret key, and the algorithm it claims. */
export interface EnvelopeSigner {
  readonly kid: string;
  readonly secretKey: Buffer;
  /** Default ENVELOPE_ALG; anything else makes a forgery. */
  readonly alg?: string;
}

/**
 * An envelope around `payload` (an object, sent as its JSON, or exact bytes), signed as the
 * manager signs one: Ed25519 over the payload bytes. For payloads and keys the manager would
 * never use, to test what verifies them.
 */
export function signEnvelope(payload: object | Buffer, signer: EnvelopeSigner): Buffer {
  const bytes = Buffer.isBuffer(payload) ? payload : Buffer.from(JSON.stringify(payload), 'utf8');
  return Buffer.from(
    JSON.stringify({
      alg: signer.alg ?? ENVELOPE_ALG,
      kid: signer.kid,
      payload: bytes.toString('base64'),
      sig: new Ed25519Signer(signer.secretKey).sign(bytes).toString('base64'),
    }),
    'utf8',
  );
}
