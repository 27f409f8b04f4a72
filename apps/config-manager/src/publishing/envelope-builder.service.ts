import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import {
  type ArchivedPayload,
  type CandidatePayload,
  type ConfigBundlePayload,
  type ConfigPayload,
  type RolloutTarget,
  ENVELOPE_ALG,
  type PublishedSigningKey,
  type SchemaPayload,
  type SealedSecretJson,
  type SignedEnvelope,
  serviceDefinitions,
} from '@app/contracts';
import { Ed25519Signer, sealSecret } from '@app/crypto';
import type { ConfigState } from '../configs/config-state';
import { type CatalogEntry, ServiceCatalog } from '../configs/service-catalog';
import { SecretsService, type StagedSecrets } from '../secrets/secrets.service';
import type { Settings } from '../settings/settings';
import { SETTINGS } from '../settings/settings.module';

/**
 * Builds the signed envelopes the manager retains: a version's (the complete non-secret config,
 * each set secret sealed to the service's X25519 key), a service's current schema, and the
 * tombstone of an archived service; each serialised once and signed over those exact bytes.
 */
@Injectable()
export class EnvelopeBuilderService implements OnModuleInit {
  private readonly logger = new Logger(EnvelopeBuilderService.name);
  private readonly signer: Ed25519Signer;

  constructor(
    @Inject(SETTINGS) private readonly settings: Settings,
    private readonly secrets: SecretsService,
    private readonly catalog: ServiceCatalog,
  ) {
    this.signer = new Ed25519Signer(settings.signing.secretKey);
  }

  onModuleInit(): void {
    for (const definition of serviceDefinitions()) {
      if (definition.secretPaths.length > 0 && !this.settings.recipientKeys.has(definition.name)) {
        this.logger.warn(
          `SERVICE_RECIPIENT_KEYS has no key for ${definition.name}: its secrets (${definition.secretPaths.join(', ')}) ` +
            'will not be sent to its workers. Add "<service>:<X25519 public key>" (npm run keys -- generate).',
        );
      }
    }
  }

  /** The public keys workers may pin: the current one first, then retired ones. */
  signingKeys(): PublishedSigningKey[] {
    const { keyId, publicKey, previous } = this.settings.signing;
    return [
      { kid: keyId, alg: ENVELOPE_ALG, publicKey: publicKey.toString('base64'), current: true },
      ...previous.map((p): PublishedSigningKey => ({
        kid: p.kid,
        alg: ENVELOPE_ALG,
        publicKey: p.publicKey.toString('base64'),
        current: false,
      })),
    ];
  }

  /** The envelope bytes for a state. */
  build(state: ConfigState, issuedAt = new Date()): Buffer {
    const entry = this.catalog.entry(state.service);
    const payload: ConfigPayload = {
      service: state.service,
      version: state.version,
      issuedAt: issuedAt.toISOString(),
      expiresAt: this.expiresAt(issuedAt),
      schemaHash: state.schemaHash,
      config: { ...state.config },
      secrets: this.sealSecrets(entry),
    };
    return this.sign(payload);
  }

  /**
   * The envelope of a rollout's candidate, retained on system/candidate/<service>: the version's
   * payload (its staged secret writes over the current secrets) and, inside the signature, who
   * it is for.
   */
  buildCandidate(
    state: ConfigState,
    rollout: RolloutTarget,
    staged: StagedSecrets,
    issuedAt = new Date(),
  ): Buffer {
    const entry = this.catalog.entry(state.service);
    const payload: CandidatePayload = {
      service: state.service,
      version: state.version,
      issuedAt: issuedAt.toISOString(),
      expiresAt: this.expiresAt(issuedAt),
      schemaHash: state.schemaHash,
      config: { ...state.config },
      secrets: this.sealSecrets(entry, staged),
      rollout,
    };
    return this.sign(payload);
  }

  /** The envelope of a service's current schema, retained on system/schema/<service>. */
  buildSchema(entry: CatalogEntry, issuedAt = new Date()): Buffer {
    const payload: SchemaPayload = {
      service: entry.definition.name,
      schemaVersion: entry.schemaVersion,
      schemaHash: entry.definition.schemaHash,
      schema: entry.definition.jsonSchema as Record<string, unknown>,
      issuedAt: issuedAt.toISOString(),
    };
    return this.sign(payload);
  }

  /** The tombstone retained on an archived service's config topic: `version` was its last. */
  buildTombstone(service: string, version: number, issuedAt = new Date()): Buffer {
    const payload: ArchivedPayload = {
      service,
      version,
      archived: true,
      issuedAt: issuedAt.toISOString(),
    };
    return this.sign(payload);
  }

  /** A signed export bundle (GET …/export): the same envelope, so one verifier reads both. */
  buildBundle(payload: ConfigBundlePayload): Buffer {
    return this.sign(payload);
  }

  /** The X25519 key a service's secrets are sealed to: its registration's, else SERVICE_RECIPIENT_KEYS. */
  recipientKey(entry: CatalogEntry): Buffer | undefined {
    return entry.recipientKey ?? this.settings.recipientKeys.get(entry.definition.name);
  }

  /** `issuedAt` + CONFIG_ENVELOPE_TTL_SECONDS: a worker with nothing applied refuses the payload after it. */
  private expiresAt(issuedAt: Date): string {
    return new Date(issuedAt.getTime() + this.settings.envelopeTtlMs).toISOString();
  }

  private sign(payload: object): Buffer {
    const payloadBytes = Buffer.from(JSON.stringify(payload), 'utf8');
    const envelope: SignedEnvelope = {
      alg: ENVELOPE_ALG,
      kid: this.settings.signing.keyId,
      payload: payloadBytes.toString('base64'),
      sig: this.signer.sign(payloadBytes).toString('base64'),
    };
    return Buffer.from(JSON.stringify(envelope), 'utf8');
  }

  /** Every set secret of the service's current secret paths (staged writes over them), sealed; none without a key. */
  private sealSecrets(
    entry: CatalogEntry,
    staged: StagedSecrets = [],
  ): Record<string, SealedSecretJson> {
    const recipient = this.recipientKey(entry);
    if (!recipient) return {};
    const paths = new Set(entry.definition.secretPaths);
    const sealed: Record<string, SealedSecretJson> = {};
    for (const [path, value] of this.secrets.reveal(entry.definition.name, staged)) {
      // A path the schema no longer has is not sent (its value stays stored, sealed at rest).
      if (paths.has(path)) sealed[path] = sealSecret(value, recipient);
    }
    return sealed;
  }
}
