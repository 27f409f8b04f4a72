// The bodies of config-manager's REST API (DESIGN.md, README "REST API"): one definition that
// the manager answers with and its clients (the admin page) read.
import type { ReportedStatus } from '../health/instance-status';
import type { JsonSchema } from '../json-schema/json-schema';

/** The roles a token can hold. */
export type Role = 'config:read' | 'config:write' | 'secrets:write' | 'admin';

/** GET /api/me. */
export interface WhoAmI {
  name: string;
  /** Effective roles, implied ones included (`admin` brings every other role). */
  roles: Role[];
}

/** How a version came to be. */
export type VersionKind = 'initial' | 'update' | 'rollback' | 'secret' | 'migration';

/** Whether a secret is set, and when it last changed (null: never). Never its value. */
export interface SecretState {
  set: boolean;
  updatedAt: string | null;
}

/** The body of GET/PATCH/PUT config: values, and for secrets only whether they are set. */
export interface ConfigResponse {
  service: string;
  version: number;
  updatedAt: string;
  updatedBy: string;
  config: Readonly<Record<string, unknown>>;
  secrets: Record<string, SecretState>;
  /** Whether the MQTT broker acknowledged this version (false: committed, not yet delivered). */
  published: boolean;
}

/** Instance counts of a service. */
export interface InstanceCounts {
  total: number;
  online: number;
  degraded: number;
  offline: number;
  onCurrentVersion: number;
}

/** Where a service's schema comes from: the manager's code (at start) or the registration API. */
export type ServiceOrigin = 'code' | 'api';

/** One entry of GET /api/services. */
export interface ServiceSummary {
  service: string;
  description: string;
  version: number;
  updatedAt: string;
  updatedBy: string;
  instances: InstanceCounts;
  origin: ServiceOrigin;
  schemaVersion: number;
  /** When it was archived (DELETE /api/services/:service); null while active. */
  archivedAt: string | null;
}

/** GET /api/services/:service/schema. */
export interface ServiceSchemaResponse {
  service: string;
  schemaVersion: number;
  schemaHash: string;
  secretPaths: readonly string[];
  schema: JsonSchema;
}

/** Body of PUT /api/services/:service (register a service, change its schema, restore it). */
export interface ServiceRegistrationRequest {
  /** What the service is; kept as is when omitted on a later PUT. */
  description?: string;
  /** Its configuration schema: JSON Schema draft 2020-12, the supported keywords (docs/services.md). */
  schema: JsonSchema;
  /** X25519 public key (32 bytes, base64) that its secrets are sealed to; null removes it. */
  recipientKey?: string | null;
  /** The config to move to when the current one does not fit the new schema (a `migration` version). */
  config?: Record<string, unknown>;
}

/** The answer of PUT and DELETE /api/services/:service. */
export interface ServiceRegistration {
  service: string;
  description: string;
  origin: ServiceOrigin;
  schemaVersion: number;
  schemaHash: string;
  /** The current config version. */
  version: number;
  archivedAt: string | null;
  hasRecipientKey: boolean;
  /** This request registered the service (201). */
  created: boolean;
  /** This request recorded a new schema version. */
  schemaChanged: boolean;
  /** This request made a config version of kind `migration`. */
  migrated: boolean;
}

/** One entry of GET /api/services/:service/schemas, newest first. */
export interface SchemaVersionSummary {
  schemaVersion: number;
  schemaHash: string;
  createdAt: string;
  createdBy: string;
  reason: string | null;
}

/** GET /api/services/:service/schemas/:schemaVersion. */
export interface SchemaVersionDetail extends SchemaVersionSummary {
  service: string;
  schema: JsonSchema;
}

/** One entry of GET /api/services/:service/versions. */
export interface VersionSummary {
  version: number;
  createdAt: string;
  createdBy: string;
  reason: string | null;
  kind: VersionKind;
}

/** One changed path (diff, audit): values for config, a bare flag for secrets. */
export type ChangeEntry =
  { path: string; from: unknown; to: unknown } | { path: string; changed: true };

/** One entry of GET /api/audit. */
export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  service: string;
  kind: string;
  versionBefore: number | null;
  versionAfter: number | null;
  reason: string | null;
  changes: ChangeEntry[];
}

/** How a worker instance is doing, as the instance view shows it: its last report, judged. */
export interface InstanceView extends Pick<
  ReportedStatus,
  | 'service'
  | 'instanceId'
  | 'status'
  | 'appliedVersion'
  | 'stagedVersion'
  | 'lastRunVersion'
  | 'schemaDrift'
> {
  /** The newest rejection reported; a later report without one does not clear it. */
  lastRejection: { version?: number; reason: string; at: string } | null;
  /** When the instance last reported something new. */
  lastSeen: string;
  /** When it went offline (stopped, or its last will); null while it is up. Its versions are the last it reported while up. */
  offlineSince: string | null;
}

/** A search hit: a config value, or a secret that matched by name (never by value). */
export type SearchHit =
  | { service: string; path: string; value: unknown }
  | { service: string; path: string; secret: true; set: boolean };

/** A problem with one field of a request, by dotted path. */
export interface ErrorDetail {
  path: string;
  message: string;
}

/** The error body every endpoint answers with. */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  details?: ErrorDetail[];
  /** The request's id (also the X-Request-Id response header), to quote when reporting it. */
  requestId?: string;
}
