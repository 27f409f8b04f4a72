import { isPlainObject } from '../json/plain-object';

/** Why a worker rejected a config message: one per worker rule, plus `oversized` (rule 0). */
export const REJECTION_REASONS = [
  'oversized',
  'malformed',
  'unsupported-alg',
  'unknown-key',
  'signature',
  'service',
  'stale',
  'schema',
  'secret',
] as const;

/** Why a worker rejected a config message. */
export type RejectionReason = (typeof REJECTION_REASONS)[number];

/** `online`: on a config the broker delivered or confirmed; `degraded`: on last-known-good or defaults; `offline`: stopped or gone (last will). */
export type InstanceStatusValue = 'online' | 'degraded' | 'offline';

/** Where a worker's applied configuration came from. */
export type ConfigSource = 'broker' | 'lkg' | 'defaults';

/** The most recent rejected message. */
export interface LastRejection {
  /**
   * Present only when the signature verified (an unverified version means nothing).
   * @asType integer
   * @minimum 1
   */
  readonly version?: number;
  readonly reason: RejectionReason;
  /** @format date-time */
  readonly at: string;
}

/**
 * How many messages were rejected for one reason since the worker started.
 * @asType integer
 * @minimum 0
 */
export type RejectionCount = number;

/** Label keys a worker reports (INSTANCE_LABELS). */
export const LABEL_KEY_PATTERN = /^[a-z][a-z0-9_.-]{0,62}$/;

/** Label values a worker reports. */
export const LABEL_VALUE_PATTERN = /^[A-Za-z0-9_.:-]{0,63}$/;

/** Most labels one instance reports. */
export const MAX_LABELS = 16;

/** The runs finished on one version (the version the last run used). */
export interface RunCounts {
  /**
   * @asType integer
   * @minimum 0
   */
  readonly version: number;
  /**
   * @asType integer
   * @minimum 0
   */
  readonly completed: number;
  /**
   * @asType integer
   * @minimum 0
   */
  readonly failed: number;
}

/** The last finished run. */
export interface LastRun {
  /**
   * @asType integer
   * @minimum 0
   */
  readonly version: number;
  readonly ok: boolean;
  /** @format date-time */
  readonly at: string;
}

/** The retained health payload on `system/health/<service>/<instanceId>`, as a worker publishes it. */
export interface InstanceStatus {
  /** @pattern ^[a-z][a-z0-9-]{1,62}$ */
  readonly service: string;
  /** @pattern ^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$ */
  readonly instanceId: string;
  readonly status: InstanceStatusValue;
  /**
   * Newest accepted version (from the broker or the last-known-good file); 0 when none.
   * @asType integer
   * @minimum 0
   */
  readonly appliedVersion: number;
  /**
   * Version the next run will use (staged, or still active); 0 for the schema defaults.
   * @asType integer
   * @minimum 0
   */
  readonly stagedVersion: number;
  /**
   * Version the last run used; null before the first run.
   * @asType integer
   * @nullable
   * @minimum 0
   */
  readonly lastRunVersion: number | null;
  readonly lastRejection?: LastRejection;
  /** The applied version was built for a different schema than this worker's. */
  readonly schemaDrift: boolean;
  /** Where the applied version came from. */
  readonly source: ConfigSource;
  /** Rejected messages since start, by reason. */
  readonly rejections: Readonly<Record<RejectionReason, RejectionCount>>;
  /** What the instance says it is (INSTANCE_LABELS): rollouts select cohorts by them. */
  readonly labels?: Readonly<Record<string, string>>;
  /** Runs finished on the version the last run used; absent before the first finished run. */
  readonly runs?: RunCounts;
  /** The last finished run; absent before the first. */
  readonly lastRun?: LastRun;
  /**
   * Nothing attested the applied version for longer than CONFIG_MAX_STALENESS (docs/recovery.md):
   * a warning, the worker keeps running; absent from workers that do not track it.
   */
  readonly stale?: boolean;
  /**
   * The newest `issuedAt` (capped at the worker's clock) of an authentic payload of the version it
   * runs: when the manager last vouched for it.
   * @format date-time
   */
  readonly attestedAt?: string;
  /**
   * When the worker wrote this status.
   * @format date-time
   */
  readonly at: string;
}

/** Health messages are small; anything bigger is not one. */
export const MAX_HEALTH_BYTES = 16 * 1024;

/**
 * A health payload as a reader takes it in: the fields every reader relies on, checked and
 * bounded. Workers in other languages may leave out what they do not track, so versions the
 * payload does not carry are null, and an unknown rejection reason (a newer worker's) is kept as
 * text, not refused.
 */
export interface ReportedStatus {
  readonly service: string;
  readonly instanceId: string;
  readonly status: InstanceStatusValue;
  readonly appliedVersion: number | null;
  readonly stagedVersion: number | null;
  readonly lastRunVersion: number | null;
  readonly schemaDrift: boolean;
  readonly lastRejection: {
    readonly version?: number;
    readonly reason: string;
    readonly at?: string;
  } | null;
  /** Labels that fit LABEL_KEY_PATTERN and LABEL_VALUE_PATTERN (at most MAX_LABELS); others are dropped. */
  readonly labels: Readonly<Record<string, string>>;
  /** Run counts when the payload carries valid ones; null otherwise. */
  readonly runs: RunCounts | null;
  /** The last finished run when the payload carries a valid one (its `at` as written); null otherwise. */
  readonly lastRun: LastRun | null;
  /** Whether the worker says it is stale; null when the payload does not say. */
  readonly stale: boolean | null;
  /** The payload's `attestedAt`, as it wrote it (not checked against any clock); null when absent. */
  readonly attestedAt: string | null;
  /** The payload's `at`, as it wrote it (not checked against any clock). */
  readonly at?: string;
}

const STATUSES: ReadonlySet<string> = new Set<InstanceStatusValue>([
  'online',
  'degraded',
  'offline',
]);
const MAX_REASON_LENGTH = 64;
const MAX_TIME_LENGTH = 40;

/**
 * Reads a health payload at the message boundary: undefined for anything that is not one
 * (larger than MAX_HEALTH_BYTES, not JSON, not an object, no valid status, no string service or
 * instanceId). Labels, run counts and the last run are optional extras: an invalid label is
 * dropped, invalid run counts or last run read as null, never a reason to refuse the report.
 * Never throws.
 */
export function readInstanceStatus(payload: Uint8Array): ReportedStatus | undefined {
  if (payload.length === 0 || payload.length > MAX_HEALTH_BYTES) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    return undefined;
  }
  if (!isPlainObject(body)) return undefined;
  const { service, instanceId, status } = body;
  if (typeof service !== 'string' || typeof instanceId !== 'string') return undefined;
  if (typeof status !== 'string' || !STATUSES.has(status)) return undefined;
  const rejection = isPlainObject(body.lastRejection) ? body.lastRejection : undefined;
  const reason = text(rejection?.reason, MAX_REASON_LENGTH);
  const rejectionVersion = version(rejection?.version);
  const rejectionAt = text(rejection?.at, MAX_TIME_LENGTH);
  const at = text(body.at, MAX_TIME_LENGTH);
  return {
    service,
    instanceId,
    status: status as InstanceStatusValue,
    appliedVersion: version(body.appliedVersion),
    stagedVersion: version(body.stagedVersion),
    lastRunVersion: version(body.lastRunVersion),
    schemaDrift: body.schemaDrift === true,
    lastRejection: reason
      ? {
          ...(rejectionVersion === null ? {} : { version: rejectionVersion }),
          reason,
          ...(rejectionAt === undefined ? {} : { at: rejectionAt }),
        }
      : null,
    labels: labels(body.labels),
    runs: runCounts(body.runs),
    lastRun: lastRun(body.lastRun),
    stale: typeof body.stale === 'boolean' ? body.stale : null,
    attestedAt: text(body.attestedAt, MAX_TIME_LENGTH) ?? null,
    ...(at === undefined ? {} : { at }),
  };
}

/** The valid labels, in the payload's order, at most MAX_LABELS of them. */
function labels(value: unknown): Record<string, string> {
  const read: Record<string, string> = {};
  if (!isPlainObject(value)) return read;
  let count = 0;
  for (const [key, label] of Object.entries(value)) {
    if (count >= MAX_LABELS) break;
    if (!LABEL_KEY_PATTERN.test(key)) continue;
    if (typeof label !== 'string' || !LABEL_VALUE_PATTERN.test(label)) continue;
    read[key] = label;
    count++;
  }
  return read;
}

function runCounts(value: unknown): RunCounts | null {
  if (!isPlainObject(value)) return null;
  const runVersion = version(value.version);
  const completed = version(value.completed);
  const failed = version(value.failed);
  if (runVersion === null || completed === null || failed === null) return null;
  return { version: runVersion, completed, failed };
}

function lastRun(value: unknown): LastRun | null {
  if (!isPlainObject(value)) return null;
  const runVersion = version(value.version);
  const at = text(value.at, MAX_TIME_LENGTH);
  if (runVersion === null || typeof value.ok !== 'boolean' || at === undefined) return null;
  return { version: runVersion, ok: value.ok, at };
}

function version(value: unknown): number | null {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : null;
}

function text(value: unknown, max: number): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value.slice(0, max) : undefined;
}
