/** Signature algorithm of every config envelope. */
export const ENVELOPE_ALG = 'Ed25519';

/**
 * What travels on `system/config/<service>`: the payload's exact UTF-8 JSON bytes in base64 and
 * an Ed25519 signature over those bytes, so no JSON canonicalisation is needed to verify.
 */
export interface SignedEnvelope {
  alg: typeof ENVELOPE_ALG;
  kid: string;
  payload: string;
  sig: string;
}

/** A secret sealed to the service's X25519 public key (tweetnacl box, ephemeral sender key). */
export interface SealedSecretJson {
  alg: 'x25519-xsalsa20-poly1305';
  epk: string;
  nonce: string;
  box: string;
}

/** The signed content: always the complete non-secret config, never a partial patch. */
export interface ConfigPayload {
  service: string;
  version: number;
  issuedAt: string;
  schemaHash: string;
  config: Record<string, unknown>;
  secrets: Record<string, SealedSecretJson>;
}

/** One entry of GET /api/keys: a public key workers may pin. */
export interface PublishedSigningKey {
  kid: string;
  alg: typeof ENVELOPE_ALG;
  publicKey: string;
  /** The key new versions are signed with (others are retired but still listed). */
  current: boolean;
}
