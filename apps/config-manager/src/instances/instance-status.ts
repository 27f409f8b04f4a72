import { type InstanceView, parseHealthTopic, readInstanceStatus } from '@app/contracts';

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

/** How a log line says why a report was refused. */
export const REFUSAL_WORDS: Record<HealthRefusal, string> = {
  malformed: 'not a health message',
  service: 'its payload names another service than its topic',
  instance: 'its payload names another instance than its topic',
  version: 'it claims a version above any published one',
  capacity: 'the service already has INSTANCES_MAX_PER_SERVICE instances in the view',
};

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

/**
 * Reads an instance health message (`system/health/<service>/<instanceId>`): undefined for a
 * topic that is not a health topic of a registered service, else a report, a removal, or a
 * refusal with its reason. The payload is read by the contract's one reader
 * (`readInstanceStatus`); this adds what only the view needs: the topic binding, and times it
 * can believe.
 */
export function parseInstanceHealth(
  topic: string,
  payload: Buffer,
  seenAt: Date,
  isRegistered: (service: string) => boolean,
): HealthMessage | undefined {
  const parsed = parseHealthTopic(topic);
  if (!parsed || !isRegistered(parsed.service)) return undefined;
  const { service, instanceId } = parsed;
  if (payload.length === 0) return { kind: 'removed', service, instanceId };
  const refused = (reason: HealthRefusal): HealthMessage => ({ kind: 'refused', service, reason });
  const status = readInstanceStatus(payload);
  if (!status) return refused('malformed');
  // The topic says who is reporting; a payload that claims to be someone else is not believed.
  if (status.service !== service) return refused('service');
  if (status.instanceId !== instanceId) return refused('instance');
  const { at, lastRejection, lastRun, attestedAt, ...report } = status;
  return {
    kind: 'report',
    report: {
      ...report,
      lastRejection: lastRejection
        ? {
            ...(lastRejection.version === undefined ? {} : { version: lastRejection.version }),
            reason: lastRejection.reason,
            at: plausibleTime(lastRejection.at, seenAt) ?? seenAt.toISOString(),
          }
        : null,
      lastRun: lastRun
        ? { ...lastRun, at: plausibleTime(lastRun.at, seenAt) ?? seenAt.toISOString() }
        : null,
      attestedAt: plausibleTime(attestedAt, seenAt) ?? null,
      reportedAt: plausibleTime(at, seenAt),
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
