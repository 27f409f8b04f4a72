import { Injectable, Logger } from '@nestjs/common';
import {
  type ConfigIssue,
  type SchemaVersionDetail,
  type SchemaVersionSummary,
  type ServiceRegistration,
  SERVICE_NAME_PATTERN,
  checkServiceSchema,
  codePointLength,
  isPlainObject,
} from '@app/contracts';
import { CryptoError, decodeBase64Key } from '@app/crypto';
import { DomainError, ErrorCode } from '../common/domain-error';
import { truncate } from '../common/text';
import type { ChangeContext } from '../common/write-context';
import { ConfigCacheService } from '../configs/config-cache.service';
import { ConfigReadsService } from '../configs/config-reads.service';
import { ConfigRepository } from '../configs/config-repository';
import { type CatalogEntry, ServiceCatalog } from '../configs/service-catalog';
import {
  type Registration,
  type RegistrationOutcome,
  ServiceRegistrar,
} from '../configs/service-registrar';
import { isUniqueViolation } from '../database/database-errors';
import { DatabaseService } from '../database/database.service';
import { ConfigPublisherService } from '../publishing/config-publisher.service';
import { EnvelopeBuilderService } from '../publishing/envelope-builder.service';
import { rolloutActive } from '../rollouts/rollout-errors';
import { RolloutRepository } from '../rollouts/rollout.repository';

const BODY_FIELDS = new Set(['description', 'schema', 'recipientKey', 'config']);
const MAX_DESCRIPTION_LENGTH = 500;
// Concurrent first registrations of one name: the losers of the insert race retry once it exists.
const MAX_ATTEMPTS = 3;

/** The answer of a registration, and whether it reached the broker. */
export interface RegistrationResult {
  readonly registration: ServiceRegistration;
  readonly published: boolean;
}

/**
 * The registration API's use cases: register a service or change its schema (PUT), list and
 * read its schema versions, archive it (DELETE). The request is checked completely before
 * anything is written (a 400 or 413 names each problem and stores nothing); ServiceRegistrar
 * applies the evolution rule in one transaction; the new schema is then published before the
 * config that names it.
 */
@Injectable()
export class ServiceRegistrationService {
  private readonly logger = new Logger(ServiceRegistrationService.name);

  constructor(
    private readonly db: DatabaseService,
    private readonly registrar: ServiceRegistrar,
    private readonly catalog: ServiceCatalog,
    private readonly cache: ConfigCacheService,
    private readonly repository: ConfigRepository,
    private readonly publisher: ConfigPublisherService,
    private readonly envelopes: EnvelopeBuilderService,
    private readonly reads: ConfigReadsService,
    private readonly rollouts: RolloutRepository,
  ) {}

  /** PUT /api/services/:service. */
  async register(
    service: string,
    body: unknown,
    context: ChangeContext,
  ): Promise<RegistrationResult> {
    await this.reads.discover(service);
    const registration = this.parse(service, body, context);
    const outcome = await this.commit(registration);
    this.catalog.set(outcome.entry);
    this.cache.set(outcome.state);
    const entry = this.catalog.entry(service);
    if (!this.envelopes.recipientKey(entry) && entry.definition.secretPaths.length > 0) {
      this.logger.warn(
        `${service} has secrets (${entry.definition.secretPaths.join(', ')}) but no recipient key: ` +
          'they are stored but not sent to its workers until a recipientKey is registered',
      );
    }
    const published = outcome.unchanged
      ? this.publisher.isPublished(service, outcome.state.version)
      : await this.publisher.publish(outcome.state);
    return { registration: this.toRegistration(entry, outcome), published };
  }

  /** DELETE /api/services/:service: archived, its history kept, its topic holding a tombstone. */
  async archive(service: string, context: ChangeContext): Promise<RegistrationResult> {
    await this.reads.discover(service);
    this.catalog.entry(service);
    const { entry, state } = await this.db.transaction(async (manager) => {
      const active = await this.rollouts.findActive(manager, service);
      if (active) throw rolloutActive(active);
      return this.registrar.archive(manager, service, context.actor, context.reason ?? null);
    });
    this.catalog.set(entry);
    const archived = this.catalog.entry(service);
    const published = await this.publisher.publishArchived(archived, state.version);
    return {
      registration: this.toRegistration(archived, {
        state,
        created: false,
        schemaChanged: false,
        migrated: false,
      }),
      published,
    };
  }

  /** GET /api/services/:service/schemas, newest first. */
  schemas(service: string): Promise<SchemaVersionSummary[]> {
    return this.repository.listSchemas(this.catalog.entry(service).definition.name);
  }

  /** GET /api/services/:service/schemas/:schemaVersion. */
  async schema(service: string, schemaVersion: number): Promise<SchemaVersionDetail> {
    const stored = await this.repository.getSchema(
      this.catalog.entry(service).definition.name,
      schemaVersion,
    );
    return {
      service: stored.service,
      schemaVersion: stored.schemaVersion,
      schemaHash: stored.schemaHash,
      createdAt: stored.createdAt,
      createdBy: stored.createdBy,
      reason: stored.reason,
      schema: stored.document,
    };
  }

  private async commit(registration: Registration): Promise<RegistrationOutcome> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction(async (manager) => {
          const outcome = await this.registrar.register(manager, registration);
          // A new schema or version during a rollout would change what it deploys: refused
          // (the transaction rolls back).
          if (outcome.schemaChanged || outcome.versionCreated) {
            const active = await this.rollouts.findActive(manager, registration.definition.name);
            if (active) throw rolloutActive(active);
          }
          return outcome;
        });
      } catch (error) {
        // Another request created the service first: register again against what it stored.
        if (!isUniqueViolation(error) || attempt >= MAX_ATTEMPTS) throw error;
      }
    }
  }

  /** The whole request checked at once; nothing is written for a request with any problem. */
  private parse(service: string, body: unknown, context: ChangeContext): Registration {
    if (!SERVICE_NAME_PATTERN.test(service)) {
      const message = `service name "${truncate(service)}" must match ${String(SERVICE_NAME_PATTERN)} (it is an MQTT topic segment)`;
      throw new DomainError(ErrorCode.ValidationFailed, message, [{ path: 'service', message }]);
    }
    if (context.publish === 'staged') {
      const message =
        'X-Publish: staged applies to config and secret writes; a schema change is published at once';
      throw new DomainError(ErrorCode.ValidationFailed, message, [{ path: 'X-Publish', message }]);
    }
    const known = this.catalog.find(service);
    if (known?.origin === 'code') {
      throw new DomainError(
        ErrorCode.CodeRegistered,
        `${service} is registered by the manager's code: its schema changes with a release of the manager, not over the API`,
      );
    }
    if (!isPlainObject(body)) {
      const message =
        'request body must be a JSON object { description, schema, recipientKey?, config? }';
      throw new DomainError(ErrorCode.ValidationFailed, message, [{ path: '', message }]);
    }
    const problems: ConfigIssue[] = [];
    for (const key of Object.keys(body)) {
      if (!BODY_FIELDS.has(key)) {
        problems.push({
          path: key,
          message: `${truncate(key)} is not a field of a registration (description, schema, recipientKey, config)`,
        });
      }
    }
    const description = this.description(body.description, known, problems);
    const recipientKey = this.recipientKey(body.recipientKey, problems);
    if (body.config !== undefined && !isPlainObject(body.config)) {
      problems.push({ path: 'config', message: 'config must be a JSON object' });
    }
    if (body.schema === undefined) {
      problems.push({
        path: 'schema',
        message: 'schema is required (a JSON Schema, draft 2020-12)',
      });
    }
    const check =
      body.schema === undefined ? undefined : checkServiceSchema(service, description, body.schema);
    if (check && !check.ok) {
      if (check.tooLarge) {
        throw new DomainError(
          ErrorCode.PayloadTooLarge,
          check.problems[0]?.message ?? 'schema too large',
          check.problems,
        );
      }
      problems.push(...check.problems);
    }
    if (problems.length > 0 || !check?.ok) {
      const shown = problems.slice(0, 5).map((p) => `${p.path}: ${p.message}`);
      const more = problems.length > 5 ? ` (and ${problems.length - 5} more)` : '';
      throw new DomainError(
        ErrorCode.ValidationFailed,
        `Invalid registration of ${service}: ${shown.join('; ')}${more}`,
        problems,
      );
    }
    return {
      definition: check.definition,
      origin: 'api',
      description,
      ...(recipientKey === undefined ? {} : { recipientKey }),
      ...(body.config === undefined ? {} : { config: body.config as Record<string, unknown> }),
      actor: context.actor,
      reason: context.reason ?? null,
    };
  }

  private description(
    value: unknown,
    known: CatalogEntry | undefined,
    problems: ConfigIssue[],
  ): string {
    if (value === undefined) return known?.description ?? '';
    if (typeof value !== 'string' || codePointLength(value) > MAX_DESCRIPTION_LENGTH) {
      problems.push({
        path: 'description',
        message: `description must be a string of at most ${MAX_DESCRIPTION_LENGTH} characters`,
      });
      return '';
    }
    return value;
  }

  private recipientKey(value: unknown, problems: ConfigIssue[]): string | null | undefined {
    if (value === undefined || value === null) return value;
    if (typeof value !== 'string') {
      problems.push({
        path: 'recipientKey',
        message: 'recipientKey must be a base64 X25519 public key (32 bytes), or null',
      });
      return undefined;
    }
    try {
      return decodeBase64Key(value, 32, 'recipientKey').toString('base64');
    } catch (error) {
      problems.push({
        path: 'recipientKey',
        message:
          error instanceof CryptoError
            ? `${error.message} (an X25519 public key: npm run keys -- generate)`
            : 'recipientKey is invalid',
      });
      return undefined;
    }
  }
  private toRegistration(
    entry: CatalogEntry,
    outcome: Pick<RegistrationOutcome, 'state' | 'created' | 'schemaChanged' | 'migrated'>,
  ): ServiceRegistration {
    return {
      service: entry.definition.name,
      description: entry.description,
      origin: entry.origin,
      schemaVersion: entry.schemaVersion,
      schemaHash: entry.definition.schemaHash,
      version: outcome.state.version,
      archivedAt: entry.archivedAt,
      hasRecipientKey: this.envelopes.recipientKey(entry) !== undefined,
      created: outcome.created,
      schemaChanged: outcome.schemaChanged,
      migrated: outcome.migrated,
    };
  }
}
