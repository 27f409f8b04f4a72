/** Signature algorithm of every config envelope. */
export const ENVELOPE_ALG = 'Ed25519';

/**
 * What travels on `system/config/<service>`: the payload's exact UTF-8 JSON bytes in base64 and
 * an Ed25519 signature over those bytes, so no JSON canonicalisation is needed to verify.
 */
export interface SignedEnvelope {
  alg: typeof ENVELOPE_ALG;
  /**
   * Id of the signing key; a worker looks it up in its trusted keys (CONFIG_TRUSTED_KEYS).
   * @minLength 1
   */
  kid: string;
  /**
   * Canonical standard base64 (RFC 4648 §4, padded, no whitespace) of the payload's UTF-8 JSON bytes.
   * @contentEncoding base64
   * @pattern ^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$
   */
  payload: string;
  /**
   * Canonical standard base64 of the 64-byte Ed25519 signature over the decoded payload bytes.
   * @contentEncoding base64
   * @pattern ^[A-Za-z0-9+/]{86}==$
   */
  sig: string;
}

/** A secret sealed to the service's X25519 public key (tweetnacl box, ephemeral sender key). */
export interface SealedSecretJson {
  alg: 'x25519-xsalsa20-poly1305';
  /**
   * The one-time sender public key (32 bytes), canonical standard base64.
   * @contentEncoding base64
   * @pattern ^[A-Za-z0-9+/]{43}=$
   */
  epk: string;
  /**
   * The 24-byte nonce, canonical standard base64.
   * @contentEncoding base64
   * @pattern ^[A-Za-z0-9+/]{32}$
   */
  nonce: string;
  /**
   * NaCl crypto_box of the secret's raw UTF-8 bytes (16-byte tag first), canonical standard base64.
   * @contentEncoding base64
   */
  box: string;
}

/** The signed content: always the complete non-secret config, never a partial patch. */
export interface ConfigPayload {
  /**
   * The service, equal to the topic's last segment.
   * @pattern ^[a-z][a-z0-9-]{1,62}$
   */
  service: string;
  /**
   * 1 for the first version, one more for each; never reused.
   * @asType integer
   * @minimum 1
   * @maximum 9007199254740991
   */
  version: number;
  /**
   * When the manager signed it (ISO 8601, UTC, milliseconds).
   * @format date-time
   */
  issuedAt: string;
  /**
   * After this the payload is expired (docs/protocol.md rule 4a): a worker with nothing applied
   * refuses it. The manager sets it to `issuedAt` + CONFIG_ENVELOPE_TTL_SECONDS and re-signs the
   * current version (a heartbeat) long before; absent in payloads of managers before 0.2 (never
   * expires).
   * @format date-time
   */
  expiresAt?: string;
  /**
   * `sha256:` + lowercase hex SHA-256 of the canonical JSON of the schema it was validated under.
   * @pattern ^sha256:[0-9a-f]{64}$
   */
  schemaHash: string;
  /** Every non-secret value, complete (never a partial patch); secret paths are absent. */
  config: Record<string, unknown>;
  /** Sealed secrets by dotted path; a secret that is not set is absent. */
  secrets: Record<string, SealedSecretJson>;
}

/**
 * Who a candidate version is for (docs/rollouts.md): inside the signature, so the broker cannot
 * choose who runs it.
 */
export interface RolloutTarget {
  /** The rollout's id. */
  id: string;
  /**
   * The step (1-based) whose cohort `instances` is.
   * @asType integer
   * @minimum 1
   */
  step: number;
  /**
   * The stable version the rollout started from; a targeted worker ignores it on the stable topic.
   * @asType integer
   * @minimum 1
   */
  stableVersion: number;
  /** The targeted instance ids (cumulative over the steps so far). */
  instances: string[];
}

/**
 * The signed content on `system/candidate/<service>`: a config payload that only the instances
 * it names apply (a worker that knows nothing of rollouts never reads it).
 */
export interface CandidatePayload extends ConfigPayload {
  rollout: RolloutTarget;
}

/**
 * The signed content on `system/schema/<service>`: the service's current JSON Schema, for workers
 * that do not bring their own. A worker checks `schemaHash` against the schema itself
 * (schemaHashOf) and uses it for config payloads carrying the same `schemaHash`.
 */
export interface SchemaPayload {
  /** @pattern ^[a-z][a-z0-9-]{1,62}$ */
  service: string;
  /**
   * 1 for the first schema of the service, one more for each change.
   * @asType integer
   * @minimum 1
   */
  schemaVersion: number;
  /**
   * `sha256:` + lowercase hex SHA-256 of the canonical JSON of `schema`; a worker recomputes it.
   * @pattern ^sha256:[0-9a-f]{64}$
   */
  schemaHash: string;
  /** The service's JSON Schema (draft 2020-12, the supported keywords only). */
  schema: Record<string, unknown>;
  /** @format date-time */
  issuedAt: string;
}

/**
 * The signed tombstone left, retained, on `system/config/<service>` when the service is archived:
 * `version` is its last version. A worker keeps running on what it has and says so; it is not a
 * new version and not a rejection.
 */
export interface ArchivedPayload {
  /** @pattern ^[a-z][a-z0-9-]{1,62}$ */
  service: string;
  /**
   * The service's last version.
   * @asType integer
   * @minimum 1
   */
  version: number;
  archived: true;
  /** @format date-time */
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
