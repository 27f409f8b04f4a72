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

/**
 * The signed content on `system/schema/<service>`: the service's current JSON Schema, for workers
 * that do not bring their own. A worker checks `schemaHash` against the schema itself
 * (schemaHashOf) and uses it for config payloads carrying the same `schemaHash`.
 */
export interface SchemaPayload {
  service: string;
  /** 1 for the first schema of the service, one more for each change. */
  schemaVersion: number;
  schemaHash: string;
  schema: Record<string, unknown>;
  issuedAt: string;
}

/**
 * The signed tombstone left, retained, on `system/config/<service>` when the service is archived:
 * `version` is its last version. A worker keeps running on what it has and says so; it is not a
 * new version and not a rejection.
 */
export interface ArchivedPayload {
  service: string;
  version: number;
  archived: true;
  issuedAt: string;
}

/** One entry of GET /api/keys: a public key workers may pin. */
export interface PublishedSigningKey {
  kid: string;
  alg: typeof ENVELOPE_ALG;
  publicKey: string;
  /** The key new versions are signed with (others are retired but still listed). */
  current: boolean;
}
