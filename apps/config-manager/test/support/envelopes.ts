import type { ConfigPayload, SignedEnvelope } from '@app/contracts';
import { naclVerify } from '@app/crypto';

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
