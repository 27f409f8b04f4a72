// common/: what every feature of the manager shares: domain errors and their HTTP mapping, the
// JSON body parser, request headers (If-Match, X-Change-Reason), paging, rate limits, file modes.
import type { ErrorDetail } from '@app/contracts';

/** Every domain failure the manager can report; each transport maps these exhaustively. */
export enum ErrorCode {
  ValidationFailed = 'VALIDATION_FAILED',
  UnknownService = 'UNKNOWN_SERVICE',
  UnknownVersion = 'UNKNOWN_VERSION',
  UnknownSecretPath = 'UNKNOWN_SECRET_PATH',
  VersionConflict = 'VERSION_CONFLICT',
  /** The current config (or a rollback target) does not validate under the service's schema. */
  SchemaConflict = 'SCHEMA_CONFLICT',
  /** The service is archived: it keeps its history but takes no writes until re-registered. */
  ServiceArchived = 'SERVICE_ARCHIVED',
  /** The service is registered by the manager's code; its schema cannot be changed over the API. */
  CodeRegistered = 'CODE_REGISTERED',
  DatabaseUnavailable = 'DATABASE_UNAVAILABLE',
  Unauthenticated = 'UNAUTHENTICATED',
  Forbidden = 'FORBIDDEN',
  UnsupportedMediaType = 'UNSUPPORTED_MEDIA_TYPE',
  PayloadTooLarge = 'PAYLOAD_TOO_LARGE',
  BrokerUnavailable = 'BROKER_UNAVAILABLE',
  /** The service has an active rollout: plain writes, schema changes and a second rollout wait. */
  RolloutActive = 'ROLLOUT_ACTIVE',
  /** A staged version is not newer than every published one: workers would refuse it as a replay. */
  StagedVersionOutdated = 'STAGED_VERSION_OUTDATED',
  /** A rollout names a version that was published, not staged. */
  VersionNotStaged = 'VERSION_NOT_STAGED',
  UnknownRollout = 'UNKNOWN_ROLLOUT',
  /** The rollout is in a state the requested action does not apply to (pausing a finished one). */
  RolloutStateConflict = 'ROLLOUT_STATE_CONFLICT',
  /**
   * A stored secret does not open as the current value of its service, path and version (its
   * ciphertext was copied from another row or an older version, or altered): nothing is sent.
   */
  SecretUnreadable = 'SECRET_UNREADABLE',
}

/** A failure of a use case, carrying a code; never an HTTP type, never a secret in its message. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetail[],
    /** Seconds after which a retry may succeed (database unavailable). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
