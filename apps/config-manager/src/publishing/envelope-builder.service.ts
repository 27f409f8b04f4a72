import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import {
  ConfigPayload,
  ENVELOPE_ALG,
  PublishedSigningKey,
  SealedSecretJson,
  SignedEnvelope,
  findServiceDefinition,
  serviceDefinitions,
} from '@app/contracts';
import { Ed25519Signer, sealSecret } from '@app/crypto';
import type { ConfigState } from '../configs/config-state';
import { SecretsService } from '../secrets/secrets.service';
import type { Settings } from '../settings/settings';
import { SETTINGS } from '../settings/settings.module';

/**
 * Builds the signed envelope of a version: the complete non-secret config, each set secret
 * sealed to the service's X25519 key, serialised once and signed over those exact bytes.
 */
@Injectable()
export class EnvelopeBuilderService implements OnModuleInit {
  private readonly logger = new Logger(EnvelopeBuilderService.name);
  private readonly signer: Ed25519Signer;

  constructor(
    @Inject(SETTINGS) private readonly settings: Settings,
    private readonly secrets: SecretsService,
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
    const definition = findServiceDefinition(state.service);
    if (!definition) throw new Error(`no definition for ${state.service}`);
    const payload: ConfigPayload = {
      service: state.service,
      version: state.version,
      issuedAt: issuedAt.toISOString(),
      schemaHash: definition.schemaHash,
      config: { ...state.config },
      secrets: this.sealSecrets(state.service),
    };
    const payloadBytes = Buffer.from(JSON.stringify(payload), 'utf8');
    const envelope: SignedEnvelope = {
      alg: ENVELOPE_ALG,
      kid: this.settings.signing.keyId,
      payload: payloadBytes.toString('base64'),
      sig: this.signer.sign(payloadBytes).toString('base64'),
    };
    return Buffer.from(JSON.stringify(envelope), 'utf8');
  }

  private sealSecrets(service: string): Record<string, SealedSecretJson> {
    const recipient = this.settings.recipientKeys.get(service);
    if (!recipient) return {};
    const sealed: Record<string, SealedSecretJson> = {};
    for (const [path, value] of this.secrets.reveal(service)) {
      sealed[path] = sealSecret(value, recipient);
    }
    return sealed;
  }
}
