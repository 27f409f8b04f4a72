// The REST API's bodies are defined once, in libs/contracts, for the manager and this page.
// Type-only imports: nothing of the contracts library is bundled into the page.
export type {
  AuditEntry,
  ChangeEntry,
  ConfigResponse,
  ErrorBody,
  ErrorDetail,
  InstanceCounts,
  InstanceView,
  JsonSchema,
  Role,
  RolloutCohort,
  RolloutEvent,
  RolloutInstanceState,
  RolloutRequest,
  RolloutState,
  RolloutStep,
  RolloutStrategy,
  RolloutTrigger,
  RolloutView,
  SchemaVersionDetail,
  SchemaVersionSummary,
  SearchHit,
  SecretState,
  ServiceOrigin,
  ServiceRegistration,
  ServiceRegistrationRequest,
  ServiceSchemaResponse as ServiceSchema,
  ServiceSummary,
  VersionKind,
  VersionState,
  VersionSummary,
  WhoAmI,
} from '@app/contracts';

/** A config (or part of one) as the page edits it. */
export type ConfigObject = Record<string, unknown>;
