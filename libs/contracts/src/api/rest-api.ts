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
export type VersionKind =
  | 'initial'
  | 'update'
  | 'rollback'
  | 'secret'
  | 'migration'
  | 'import'
  /** Made by the manager after a restored store was found behind what the fleet runs (docs/recovery.md). */
  | 'restore';

/** Whether a version was published (or deployed by a rollout), or only staged (`X-Publish: staged`). */
export type VersionState = 'published' | 'staged';

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
  /** `staged`: created with `X-Publish: staged` and not yet deployed (docs/rollouts.md). */
  state: VersionState;
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
  | 'labels'
  | 'runs'
  | 'stale'
> {
  /** When the manager last vouched for the applied version (a heartbeat), as the worker reports it, when plausible. */
  attestedAt: string | null;
  /** The last finished run; its `at` is believed only when plausible (else when it was seen). */
  lastRun: { version: number; ok: boolean; at: string } | null;
  /** The newest rejection reported; a later report without one does not clear it. */
  lastRejection: { version?: number; reason: string; at: string } | null;
  /** When the instance last reported something new. */
  lastSeen: string;
  /** When it went offline (stopped, or its last will); null while it is up. Its versions are the last it reported while up. */
  offlineSince: string | null;
}

/** Who a rollout step targets (cumulative over the steps); docs/rollouts.md. */
export type RolloutCohort =
  | { instances: number }
  | { percent: number }
  | { selector: Record<string, string> }
  | { all: true };

/** One step of a rollout strategy. */
export interface RolloutStep {
  cohort: RolloutCohort;
  /** Completed runs on the new version per targeted instance, and/or seconds after the cohort acknowledged. */
  bake?: { runs?: number; seconds?: number };
}

/** How a version is rolled out. */
export interface RolloutStrategy {
  steps: RolloutStep[];
  /** Seconds a targeted instance has to apply the candidate after its step starts. */
  ackTimeoutSeconds?: number;
  /** Failed runs on the candidate above which an instance triggers the rollback. */
  maxFailedRuns?: number;
}

/** Body of POST /api/services/:service/rollouts. */
export interface RolloutRequest {
  version: number;
  strategy: RolloutStrategy;
}

/** Where a rollout is. */
export type RolloutState =
  | 'pending'
  | 'deploying'
  | 'baking'
  | 'paused'
  | 'complete'
  | 'rolling_back'
  | 'rolled_back'
  | 'aborted';

/** What ended a rollout, or moved it: a user, or one of the automatic triggers. */
export type RolloutTrigger =
  `user:${string}` | 'ack-timeout' | 'rejection' | 'failed-runs' | 'empty-cohort' | 'complete';

/** Where one targeted instance is in its step. */
export type RolloutInstanceState =
  'pending' | 'applied' | 'baking' | 'done' | 'rejected' | 'failed' | 'timed_out';

/** One entry of a rollout's timeline. */
export interface RolloutEvent {
  at: string;
  state: RolloutState;
  step: number;
  by: RolloutTrigger | 'system';
  message: string;
}

/** GET /api/services/:service/rollouts/:id (and each entry of the list). */
export interface RolloutView {
  id: string;
  service: string;
  version: number;
  stableVersion: number;
  strategy: RolloutStrategy;
  state: RolloutState;
  /** 1-based; 0 before the first step starts. */
  step: number;
  /** The version made by a rollback or an abort; null otherwise. */
  rollbackVersion: number | null;
  trigger: RolloutTrigger | null;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  steps: Array<{
    step: number;
    cohort: RolloutCohort;
    instances: string[];
    startedAt: string | null;
  }>;
  instances: Array<{ instanceId: string; step: number; state: RolloutInstanceState }>;
  timeline: RolloutEvent[];
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
  /** The manager's error code when it has one (`ROLLOUT_ACTIVE`, `STAGED_VERSION_OUTDATED`, …). */
  code?: string;
  /** The request's id (also the X-Request-Id response header), to quote when reporting it. */
  requestId?: string;
}

/**
 * The signed content of an export bundle (GET /api/services/:service/export): one version of a
 * service as one environment's manager holds it, to be imported by another (docs/rollouts.md,
 * "Promotion between environments"). Secret values never travel: only the paths set there.
 */
export interface ConfigBundlePayload {
  bundle: 'config-centre/config-bundle';
  format: 1;
  service: string;
  version: number;
  schemaVersion: number;
  schemaHash: string;
  schema: JsonSchema;
  config: Record<string, unknown>;
  /** Secret paths that were set in the exporting environment (names only). */
  secretPaths: string[];
  exportedAt: string;
  exportedBy: string;
}

/** What an import would do (POST …/import?dryRun=true), and what it did. */
export interface ImportPreview {
  service: string;
  /** The version in the exporting environment. */
  sourceVersion: number;
  sourceSchemaHash: string;
  /** Whether the bundle's schema is this manager's current schema of the service. */
  schemaMatches: boolean;
  /** This manager's current version, the import's base. */
  baseVersion: number;
  /** From this manager's current config to the imported one. */
  changes: ChangeEntry[];
  /** Secrets the exporting environment had set, and whether this one has them set. */
  secrets: Array<{ path: string; setHere: boolean }>;
}

/** The answer of POST …/import (not a dry run): the staged version of kind `import`. */
export interface ImportResult extends ImportPreview {
  version: number;
  state: VersionState;
}
