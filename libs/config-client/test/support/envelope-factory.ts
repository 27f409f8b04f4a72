import {
  type ArchivedPayload,
  type CandidatePayload,
  type ConfigPayload,
  DEDUP_WORKER_SERVICE,
  defaultConfig,
  findServiceDefinition,
  type SchemaPayload,
  type RolloutTarget,
  type ServiceDefinition,
} from '@app/contracts';
import {
  type BoxKeyPair,
  generateBoxKeyPair,
  generateSigningKeyPair,
  sealSecret,
  type SigningKeyPair,
} from '@app/crypto';
import { signEnvelope } from '@app/testing';

/** The registered dedup-worker definition. */
export function dedupWorkerDefinition(): ServiceDefinition {
  const definition = findServiceDefinition(DEDUP_WORKER_SERVICE);
  if (definition === undefined) throw new Error('dedup-worker is not registered');
  return definition;
}

/** The manager's signing key and the worker's box key, as a test deployment has them. */
export interface TestKeys {
  readonly kid: string;
  readonly signing: SigningKeyPair;
  readonly box: BoxKeyPair;
}

/** Fresh keys for one test. */
export function createTestKeys(kid = 'cfg-test'): TestKeys {
  return { kid, signing: generateSigningKeyPair(), box: generateBoxKeyPair() };
}

/** The trusted key map a worker pins for `keys`. */
export function trustedKeysOf(keys: TestKeys): Map<string, Buffer> {
  return new Map([[keys.kid, keys.signing.publicKey]]);
}

/** What differs between test envelopes; everything else is what the manager would send. */
export interface EnvelopeSpec {
  readonly version: number;
  /** Whose config it is (default dedup-worker's): service, schemaHash and default config. */
  readonly definition?: ServiceDefinition;
  readonly service?: string;
  readonly config?: Record<string, unknown>;
  /** Plaintext secrets by path, sealed to `recipient` (default: the worker's own box key). */
  readonly secrets?: Record<string, string>;
  readonly recipient?: Buffer;
  readonly schemaHash?: string;
  readonly kid?: string;
  readonly alg?: string;
  /** Signs with this key instead of the trusted one. */
  readonly signingSecretKey?: Buffer;
  /** Default: now. */
  readonly issuedAt?: string;
  /** Default: absent (never expires). Any JSON value, to test a malformed one. */
  readonly expiresAt?: unknown;
}

/** Envelope bytes built exactly as config-manager's EnvelopeBuilderService builds them. */
export function buildEnvelope(keys: TestKeys, spec: EnvelopeSpec): Buffer {
  return signPayload(Buffer.from(JSON.stringify(configPayloadOf(keys, spec)), 'utf8'), keys, spec);
}

/** A rollout's candidate (CandidatePayload): a config payload plus its cohort, for system/candidate/<service>. */
export function buildCandidateEnvelope(
  keys: TestKeys,
  spec: EnvelopeSpec & {
    readonly rollout: Partial<RolloutTarget> & Pick<RolloutTarget, 'instances'>;
  },
): Buffer {
  const payload: CandidatePayload = {
    ...configPayloadOf(keys, spec),
    rollout: { id: 'r-test', step: 1, stableVersion: spec.version - 1, ...spec.rollout },
  };
  return signPayload(Buffer.from(JSON.stringify(payload), 'utf8'), keys, spec);
}

function configPayloadOf(keys: TestKeys, spec: EnvelopeSpec): ConfigPayload {
  const definition = spec.definition ?? dedupWorkerDefinition();
  const recipient = spec.recipient ?? keys.box.publicKey;
  const payload: ConfigPayload = {
    service: spec.service ?? definition.name,
    version: spec.version,
    issuedAt: spec.issuedAt ?? new Date().toISOString(),
    ...(spec.expiresAt === undefined ? {} : { expiresAt: spec.expiresAt as string }),
    schemaHash: spec.schemaHash ?? definition.schemaHash,
    config: spec.config ?? defaultConfig(definition),
    secrets: Object.fromEntries(
      Object.entries(spec.secrets ?? {}).map(([path, value]) => [
        path,
        sealSecret(value, recipient),
      ]),
    ),
  };
  return payload;
}

/** What differs between test schema envelopes (system/schema/<service>). */
export interface SchemaEnvelopeSpec {
  /** The schema it carries and, unless overridden, its service and hash. */
  readonly definition: ServiceDefinition;
  readonly schemaVersion?: number;
  readonly service?: string;
  /** Claimed hash (default: the schema's own). */
  readonly schemaHash?: string;
  /** Carried schema (default: the definition's JSON Schema). */
  readonly schema?: Record<string, unknown>;
  readonly kid?: string;
  readonly signingSecretKey?: Buffer;
}

/** A signed SchemaPayload, as the manager publishes it before the config that uses it. */
export function buildSchemaEnvelope(keys: TestKeys, spec: SchemaEnvelopeSpec): Buffer {
  const payload: SchemaPayload = {
    service: spec.service ?? spec.definition.name,
    schemaVersion: spec.schemaVersion ?? 1,
    schemaHash: spec.schemaHash ?? spec.definition.schemaHash,
    schema: spec.schema ?? (spec.definition.jsonSchema as Record<string, unknown>),
    issuedAt: new Date().toISOString(),
  };
  return signPayload(Buffer.from(JSON.stringify(payload), 'utf8'), keys, spec);
}

/** The signed tombstone (ArchivedPayload) the manager leaves on the config topic when it archives a service. */
export function buildTombstone(
  keys: TestKeys,
  spec: { readonly service: string; readonly version: number; readonly signingSecretKey?: Buffer },
): Buffer {
  const payload: ArchivedPayload = {
    service: spec.service,
    version: spec.version,
    archived: true,
    issuedAt: new Date().toISOString(),
  };
  return signPayload(Buffer.from(JSON.stringify(payload), 'utf8'), keys, spec);
}

/** Signs arbitrary payload bytes into an envelope (for payloads the manager would never build). */
export function signPayload(
  payloadBytes: Buffer,
  keys: TestKeys,
  spec: Pick<EnvelopeSpec, 'kid' | 'alg' | 'signingSecretKey'> = {},
): Buffer {
  return signEnvelope(payloadBytes, {
    kid: spec.kid ?? keys.kid,
    secretKey: spec.signingSecretKey ?? keys.signing.secretKey,
    alg: spec.alg,
  });
}

/** A dedup-worker config that differs from the defaults in one recognisable value. */
export function configWithModel(model: string): Record<string, unknown> {
  const config = defaultConfig(dedupWorkerDefinition());
  return { ...config, ai: { ...(config.ai as Record<string, unknown>), model } };
}
