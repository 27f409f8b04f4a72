import { findServiceDefinition, parseHealthTopic, type InstanceView } from '@app/contracts';

const STATUSES = new Set(['online', 'degraded', 'offline']);
/** Health messages are small; anything bigger is not one. */
export const MAX_HEALTH_BYTES = 16 * 1024;
// A clock a little ahead of ours is fine; a report from the far future is not believed.
const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

/** Why a health message was not taken into the instance view (counted in /metrics). */
export type HealthRefusal =
  /** Not JSON, not an object, no valid status, or larger than MAX_HEALTH_BYTES. */
  | 'malformed'
  /** `service` in the payload is not the service of the topic. */
  | 'service'
  /** `instanceId` in the payload is not the instance of the topic. */
  | 'instance'
  /** A version above anything the manager has published for the service. */
  | 'version'
  /** The service already has as many instances as INSTANCES_MAX_PER_SERVICE allows. */
  | 'capacity';

/** What one instance said about itself, bounded and typed; not yet judged against the view. */
export type HealthReport = Omit<InstanceView, 'lastSeen' | 'offlineSince'> & {
  /** The report's own `at`, when it is a plausible time (not ahead of `seenAt` by much). */
  reportedAt: string | undefined;
};

/** A health message, read. */
export type HealthMessage =
  | { kind: 'report'; report: HealthReport }
  /** An empty retained message: the instance's status was deleted from the broker. */
  | { kind: 'removed'; service: string; instanceId: string }
  | { kind: 'refused'; service: string; reason: HealthRefusal };

const version = (v: unknown): number | null =>
  Number.isSafeInteger(v) && (v as number) >= 0 ? (v as number) : null;
const text = (v: unknown, max: number): string | undefined =>
  typeof v === 'string' ? v.slice(0, max) : undefined;

/**
 * Reads an instance health message (`system/health/<service>/<instanceId>`): undefined for a
 * topic that is not a health topic of a registered service, else a report, a removal, or a
 * refusal with its reason. Only the fields the view needs are kept, bounded in size.
 */
export function parseInstanceHealth(
  topic: string,
  payload: Buffer,
  seenAt: Date,
): HealthMessage | undefined {
  const parsed = parseHealthTopic(topic);
  if (!parsed || !findServiceDefinition(parsed.service)) return undefined;
  const { service, instanceId } = parsed;
  if (payload.length === 0) return { kind: 'removed', service, instanceId };
  const refused = (reason: HealthRefusal): HealthMessage => ({ kind: 'refused', service, reason });
  if (payload.length > MAX_HEALTH_BYTES) return refused('malformed');
  let body: unknown;
  try {
    body = JSON.parse(payload.toString('utf8'));
  } catch {
    return refused('malformed');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return refused('malformed');
  const health = body as Record<string, unknown>;
  if (typeof health.status !== 'string' || !STATUSES.has(health.status)) {
    return refused('malformed');
  }
  // The topic says who is reporting; a payload that claims to be someone else is not believed.
  if (health.service !== service) return refused('service');
  if (health.instanceId !== instanceId) return refused('instance');
  const rejection = health.lastRejection as Record<string, unknown> | null | undefined;
  const reason = text(rejection?.reason, 64);
  const rejectionVersion = version(rejection?.version);
  return {
    kind: 'report',
    report: {
      service,
      instanceId,
      status: health.status as HealthReport['status'],
      appliedVersion: version(health.appliedVersion),
      stagedVersion: version(health.stagedVersion),
      lastRunVersion: version(health.lastRunVersion),
      schemaDrift: health.schemaDrift === true,
      lastRejection: reason
        ? {
            ...(rejectionVersion !== null ? { version: rejectionVersion } : {}),
            reason,
            at: plausibleTime(rejection?.at, seenAt) ?? seenAt.toISOString(),
          }
        : null,
      reportedAt: plausibleTime(health.at, seenAt),
    },
  };
}

/** An ISO time that is not ahead of `now` by more than the allowed skew, normalised; else undefined. */
function plausibleTime(value: unknown, now: Date): string | undefined {
  if (typeof value !== 'string' || value.length > 40) return undefined;
  const time = Date.parse(value);
  if (!Number.isFinite(time) || time > now.getTime() + MAX_CLOCK_SKEW_MS) return undefined;
  return new Date(time).toISOString();
}
