import { Injectable } from '@nestjs/common';
import {
  type ServiceDefinition,
  type ServiceOrigin,
  type ServiceSummary,
  definitionOf,
} from '@app/contracts';
import { EntityManager } from 'typeorm';
import { DomainError, ErrorCode } from '../common/domain-error';
import { truncate } from '../common/text';
import { ConfigRepository, type ServicePointer } from './config-repository';

/** What the manager knows of one service besides its config. */
export interface CatalogEntry {
  readonly definition: ServiceDefinition;
  readonly schemaVersion: number;
  readonly origin: ServiceOrigin;
  readonly description: string;
  /** X25519 public key from the registration; undefined: SERVICE_RECIPIENT_KEYS or none. */
  readonly recipientKey?: Buffer;
  readonly archivedAt: string | null;
}

/** The fields of a catalog entry as a service summary shows them. */
export type CatalogSummary = Pick<ServiceSummary, 'origin' | 'schemaVersion' | 'archivedAt'>;

/**
 * Every service this manager serves, registered from code at start or through the API, with its
 * current schema: the one place that says whether a service exists and what its schema is.
 * Loaded by ConfigSeeder at start, replaced by registrations, and re-read from the `services`
 * row whenever a write finds that another replica changed it (`sync`).
 */
@Injectable()
export class ServiceCatalog {
  private readonly entries = new Map<string, CatalogEntry>();
  /** Definitions compiled into the manager (registered from code), by name. */
  private readonly fromCode = new Map<string, ServiceDefinition>();

  constructor(private readonly repository: ConfigRepository) {}

  /** The entry of a service, or 404. */
  entry(service: string): CatalogEntry {
    const entry = this.entries.get(service);
    if (!entry) {
      throw new DomainError(ErrorCode.UnknownService, `Unknown service "${truncate(service)}"`);
    }
    return entry;
  }

  /** The current definition of a service, or 404. */
  definition(service: string): ServiceDefinition {
    return this.entry(service).definition;
  }

  /** The entry, or undefined for a service this manager does not know. */
  find(service: string): CatalogEntry | undefined {
    return this.entries.get(service);
  }

  /** Whether the service exists and is not archived. */
  isActive(service: string): boolean {
    const entry = this.entries.get(service);
    return entry !== undefined && entry.archivedAt === null;
  }

  /** The entry of a service that takes writes: 404 when unknown, 409 when archived. */
  active(service: string): CatalogEntry {
    const entry = this.entry(service);
    if (entry.archivedAt !== null) {
      throw new DomainError(
        ErrorCode.ServiceArchived,
        `${entry.definition.name} was archived at ${entry.archivedAt}; PUT /api/services/${entry.definition.name} with its schema restores it`,
      );
    }
    return entry;
  }

  /** Every entry, archived ones included, by name. */
  all(): CatalogEntry[] {
    return [...this.entries.values()].sort((a, b) =>
      a.definition.name.localeCompare(b.definition.name),
    );
  }

  summary(service: string): CatalogSummary {
    const entry = this.entry(service);
    return {
      origin: entry.origin,
      schemaVersion: entry.schemaVersion,
      archivedAt: entry.archivedAt,
    };
  }

  set(entry: CatalogEntry): void {
    this.entries.set(entry.definition.name, Object.freeze({ ...entry }));
  }

  /** Remembers a definition compiled into the manager: its entry keeps the typed class. */
  registerCode(definition: ServiceDefinition): void {
    this.fromCode.set(definition.name, definition);
  }

  /**
   * Makes the entry of a service agree with its `services` row (read in the caller's
   * transaction, under the row's lock): another replica may have registered, changed, archived
   * or restored it. Returns the entry, or undefined when the row has no schema yet.
   */
  async sync(manager: EntityManager, pointer: ServicePointer): Promise<CatalogEntry | undefined> {
    const entry = await this.load(manager, pointer);
    if (entry && entry !== this.entries.get(pointer.name)) this.set(entry);
    return this.entries.get(pointer.name) ?? entry;
  }

  /**
   * The entry a `services` row describes, without keeping it (a registration keeps it once its
   * transaction committed); the known entry when it already agrees. Undefined: no schema yet.
   */
  async load(manager: EntityManager, pointer: ServicePointer): Promise<CatalogEntry | undefined> {
    const known = this.entries.get(pointer.name);
    if (known && sameRow(known, pointer)) return known;
    if (pointer.schemaVersion === 0) return undefined;
    const definition =
      known?.schemaVersion === pointer.schemaVersion
        ? known.definition
        : await this.storedDefinition(manager, pointer);
    return {
      definition,
      schemaVersion: pointer.schemaVersion,
      origin: pointer.origin,
      description: pointer.description,
      ...(pointer.recipientKey
        ? { recipientKey: Buffer.from(pointer.recipientKey, 'base64') }
        : {}),
      archivedAt: pointer.archivedAt,
    };
  }

  /**
   * The definition of a service under a schema document: the one compiled into the manager
   * (with its typed class) when it is that schema.
   */
  definitionOfSchema(
    name: string,
    description: string,
    document: Record<string, unknown>,
    schemaHash: string,
  ): ServiceDefinition {
    const code = this.fromCode.get(name);
    if (code && code.schemaHash === schemaHash) return code;
    return definitionOf({ name, description, jsonSchema: document });
  }

  private async storedDefinition(
    manager: EntityManager,
    pointer: ServicePointer,
  ): Promise<ServiceDefinition> {
    const stored = await this.repository.findSchema(manager, pointer.name, pointer.schemaVersion);
    if (!stored) {
      throw new Error(`${pointer.name} points at missing schema version ${pointer.schemaVersion}`);
    }
    return this.definitionOfSchema(
      pointer.name,
      pointer.description,
      stored.document,
      stored.schemaHash,
    );
  }
}

function sameRow(entry: CatalogEntry, pointer: ServicePointer): boolean {
  return (
    entry.schemaVersion === pointer.schemaVersion &&
    entry.archivedAt === pointer.archivedAt &&
    entry.description === pointer.description &&
    entry.origin === pointer.origin &&
    (entry.recipientKey?.toString('base64') ?? null) === pointer.recipientKey
  );
}
