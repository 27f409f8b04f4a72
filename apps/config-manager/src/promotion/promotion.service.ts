import { Inject, Injectable } from '@nestjs/common';
import {
  type ConfigBundlePayload,
  diffConfigs,
  type ImportPreview,
  type ImportResult,
  isPlainObject,
  MAX_ENVELOPE_BYTES,
  type SignedEnvelope,
  validateConfig,
} from '@app/contracts';
import { readSignedEnvelope } from '@app/config-client';
import { Ed25519Verifier } from '@app/crypto';
import { DomainError, ErrorCode } from '../common/domain-error';
import type { ChangeContext } from '../common/write-context';
import { ConfigReadsService } from '../configs/config-reads.service';
import { ConfigWritesService } from '../configs/config-writes.service';
import { ServiceCatalog } from '../configs/service-catalog';
import { schemaConflict } from '../configs/validation-errors';
import { EnvelopeBuilderService } from '../publishing/envelope-builder.service';
import type { Settings } from '../settings/settings';
import { SETTINGS } from '../settings/settings.module';

const BUNDLE = 'config-centre/config-bundle';
// A bundle holds a schema (≤ 160 KiB canonical) and a config: twice the envelope limit is ample.
const MAX_BUNDLE_BYTES = 2 * MAX_ENVELOPE_BYTES;

/** A verified bundle and what importing it would do. */
export interface CheckedImport {
  readonly bundle: ConfigBundlePayload;
  /** The bundle's config, validated (defaults filled) under this manager's current schema. */
  readonly config: Record<string, unknown>;
  readonly preview: ImportPreview;
}

/**
 * Promotion between environments (docs/rollouts.md): a version exported as a bundle signed by
 * this manager's key, and a bundle from another environment's manager verified against
 * IMPORT_TRUSTED_KEYS and checked against this manager's schema before it becomes a staged
 * version. Secret values never travel; only the paths that were set.
 */
@Injectable()
export class PromotionService {
  private readonly verifiers: ReadonlyMap<string, Ed25519Verifier>;

  constructor(
    @Inject(SETTINGS) settings: Settings,
    private readonly reads: ConfigReadsService,
    private readonly catalog: ServiceCatalog,
    private readonly envelopes: EnvelopeBuilderService,
    private readonly writes: ConfigWritesService,
  ) {
    this.verifiers = new Map(
      [...settings.importTrustedKeys].map(([kid, key]) => [kid, new Ed25519Verifier(key)]),
    );
  }

  /** The signed bundle of one version (the current one when `version` is undefined). */
  async export(service: string, version: number | undefined, by: string): Promise<SignedEnvelope> {
    const entry = this.catalog.entry(service);
    const name = entry.definition.name;
    const stored =
      version === undefined ? this.reads.current(name) : await this.reads.version(name, version);
    if (stored.schemaHash !== null && stored.schemaHash !== entry.definition.schemaHash) {
      throw new DomainError(
        ErrorCode.SchemaConflict,
        `Version ${stored.version} of ${name} was written under schema ${stored.schemaHash}, not the current ` +
          `${entry.definition.schemaHash}: export a version written under the current schema`,
        [{ path: 'version', message: 'was written under an older schema' }],
      );
    }
    const payload: ConfigBundlePayload = {
      bundle: BUNDLE,
      format: 1,
      service: name,
      version: stored.version,
      schemaVersion: entry.schemaVersion,
      schemaHash: entry.definition.schemaHash,
      schema: entry.definition.jsonSchema,
      config: { ...stored.config },
      secretPaths: Object.entries(stored.secrets)
        .filter(([, state]) => state.set)
        .map(([path]) => path)
        .sort(),
      exportedAt: new Date().toISOString(),
      exportedBy: by,
    };
    return JSON.parse(this.envelopes.buildBundle(payload).toString('utf8')) as SignedEnvelope;
  }

  /** Verifies a bundle for `service` and says what importing it would change; changes nothing. */
  check(service: string, body: unknown): CheckedImport {
    const entry = this.catalog.active(service);
    const name = entry.definition.name;
    const bundle = this.verified(body);
    if (bundle.service !== name) {
      throw invalid(
        'service',
        `The bundle is for service ${JSON.stringify(bundle.service).slice(0, 80)}, not ${name}`,
      );
    }
    const validated = validateConfig(entry.definition, bundle.config);
    if (!validated.ok) {
      throw schemaConflict(
        `The bundle's config (version ${bundle.version}) does not fit the current ${name} schema`,
        validated.issues.map((issue) => ({
          ...issue,
          path: issue.path === '' ? 'config' : `config.${issue.path}`,
        })),
      );
    }
    const current = this.reads.current(name);
    return {
      bundle,
      config: validated.config,
      preview: {
        service: name,
        sourceVersion: bundle.version,
        sourceSchemaHash: bundle.schemaHash,
        schemaMatches: bundle.schemaHash === entry.definition.schemaHash,
        baseVersion: current.version,
        changes: diffConfigs(current.config, validated.config),
        secrets: bundle.secretPaths.map((path) => ({
          path,
          setHere: current.secrets[path]?.set === true,
        })),
      },
    };
  }

  /**
   * Stages a checked bundle as a version of kind `import` (based on this manager's current
   * config, secrets as they are here); a bundle equal to the current config makes none.
   */
  async stage(checked: CheckedImport, context: ChangeContext): Promise<ImportResult> {
    const { bundle, config, preview } = checked;
    const result = await this.writes.stageImport(bundle.service, config, {
      ...context,
      reason:
        context.reason ??
        `import of version ${bundle.version} exported by ${bundle.exportedBy} at ${bundle.exportedAt}`,
    });
    return {
      ...preview,
      version: result.state.version,
      state: result.staged ? 'staged' : 'published',
    };
  }

  private verified(body: unknown): ConfigBundlePayload {
    if (this.verifiers.size === 0) {
      throw invalid(
        'kid',
        'This manager trusts no export bundles: set IMPORT_TRUSTED_KEYS to the exporting managers\u2019 signing keys (kid:base64)',
      );
    }
    if (!isPlainObject(body)) {
      throw invalid('', 'The body must be an export bundle: { alg, kid, payload, sig }');
    }
    const bytes = Buffer.from(JSON.stringify(body), 'utf8');
    const reading = readSignedEnvelope(bytes, this.verifiers, MAX_BUNDLE_BYTES);
    if (!reading.ok) {
      const path =
        reading.reason === 'unknown-key' ? 'kid' : reading.reason === 'signature' ? 'sig' : '';
      throw invalid(path, `The bundle is not authentic (${reading.reason}): ${reading.detail}`);
    }
    return bundlePayload(reading.payload);
  }
}

function bundlePayload(payload: Record<string, unknown>): ConfigBundlePayload {
  const problems: Array<{ path: string; message: string }> = [];
  const need = (ok: boolean, path: string, message: string) => {
    if (!ok) problems.push({ path: `payload.${path}`, message: `payload.${path} ${message}` });
  };
  need(payload.bundle === BUNDLE, 'bundle', `must be "${BUNDLE}"`);
  need(payload.format === 1, 'format', 'must be 1');
  need(typeof payload.service === 'string', 'service', 'must be a string');
  need(
    Number.isSafeInteger(payload.version) && (payload.version as number) > 0,
    'version',
    'must be a positive integer',
  );
  need(typeof payload.schemaHash === 'string', 'schemaHash', 'must be a string');
  need(isPlainObject(payload.config), 'config', 'must be an object');
  need(
    Array.isArray(payload.secretPaths) && payload.secretPaths.every((p) => typeof p === 'string'),
    'secretPaths',
    'must be a list of strings',
  );
  if (problems.length > 0) {
    throw new DomainError(
      ErrorCode.ValidationFailed,
      `The signed content is not an export bundle: ${problems.map((p) => p.message).join('; ')}`,
      problems,
    );
  }
  return payload as unknown as ConfigBundlePayload;
}

function invalid(path: string, message: string): DomainError {
  return new DomainError(ErrorCode.ValidationFailed, message, [{ path, message }]);
}
