// Shapes of config-manager's REST API (see the README's API table and DESIGN.md).

export type Role = 'config:read' | 'config:write' | 'secrets:write' | 'admin';

export interface WhoAmI {
  name: string;
  roles: Role[];
}

export interface InstanceCounts {
  total: number;
  online: number;
  degraded: number;
  offline: number;
  onCurrentVersion: number;
}

export interface ServiceSummary {
  service: string;
  description: string;
  version: number;
  updatedAt: string;
  updatedBy: string;
  instances: InstanceCounts;
}

export interface SecretState {
  set: boolean;
  updatedAt: string | null;
}

export type ConfigObject = Record<string, unknown>;

export interface ConfigResponse {
  service: string;
  version: number;
  updatedAt: string;
  updatedBy: string;
  config: ConfigObject;
  secrets: Record<string, SecretState>;
  published: boolean;
}

export interface JsonSchema {
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  title?: string;
  description?: string;
  type?: 'object' | 'array' | 'string' | 'number' | 'integer' | 'boolean' | 'null';
  enum?: unknown[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  maxProperties?: number;
  anyOf?: JsonSchema[];
  writeOnly?: boolean;
  'x-secret'?: boolean;
  'x-sum'?: { equals: number; tolerance: number };
  'x-not-greater-than'?: string;
  'x-not-less-than'?: string;
}

export interface ServiceSchema {
  service: string;
  schemaHash: string;
  secretPaths: string[];
  schema: JsonSchema;
}

export type VersionKind = 'initial' | 'update' | 'rollback' | 'secret';

export interface VersionSummary {
  version: number;
  createdAt: string;
  createdBy: string;
  reason: string | null;
  kind: VersionKind;
}

export type DiffEntry =
  { path: string; from: unknown; to: unknown } | { path: string; changed: true };

export interface InstanceView {
  service: string;
  instanceId: string;
  status: 'online' | 'degraded' | 'offline';
  appliedVersion: number | null;
  stagedVersion: number | null;
  lastRunVersion: number | null;
  schemaDrift: boolean;
  lastRejection: { version?: number; reason: string; at: string } | null;
  lastSeen: string;
}

export type SearchHit =
  | { service: string; path: string; value: unknown }
  | { service: string; path: string; secret: true; set: boolean };

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  service: string;
  kind: string;
  versionBefore: number | null;
  versionAfter: number | null;
  reason: string | null;
  changes: DiffEntry[];
}

export interface ErrorDetail {
  path: string;
  message: string;
}

export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  details?: ErrorDetail[];
  requestId?: string;
}
