import { findServiceDefinition, parseHealthTopic, type InstanceView } from '@app/contracts';

export type { InstanceView } from '@app/contracts';

const STATUSES = new Set(['online', 'degraded', 'offline']);
/** Health messages are small; anything bigger is not one. */
export const MAX_HEALTH_BYTES = 16 * 1024;

const version = (v: unknown): number | null =>
  Number.isSafeInteger(v) && (v as number) >= 0 ? (v as number) : null;
const text = (v: unknown, max: number): string | undefined =>
  typeof v === 'string' ? v.slice(0, max) : undefined;

/**
 * Reads an instance health message (`system/health/<service>/<instanceId>`). Returns
 * `removed` for an empty retained message, undefined for anything that is not a health message
 * of a registered service. Only the fields the view needs are kept, bounded in size.
 */
export function parseInstanceHealth(
  topic: string,
  payload: Buffer,
  seenAt: string,
): InstanceView | { removed: { service: string; instanceId: string } } | undefined {
  const parsed = parseHealthTopic(topic);
  if (!parsed || !findServiceDefinition(parsed.service)) return undefined;
  if (payload.length === 0) return { removed: parsed };
  if (payload.length > MAX_HEALTH_BYTES) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null) return undefined;
  const health = body as Record<string, unknown>;
  if (typeof health.status !== 'string' || !STATUSES.has(health.status)) return undefined;
  const rejection = health.lastRejection as Record<string, unknown> | null | undefined;
  const reason = text(rejection?.reason, 64);
  return {
    service: parsed.service,
    instanceId: parsed.instanceId,
    status: health.status as InstanceView['status'],
    appliedVersion: version(health.appliedVersion),
    stagedVersion: version(health.stagedVersion),
    lastRunVersion: version(health.lastRunVersion),
    schemaDrift: health.schemaDrift === true,
    lastRejection: reason
      ? {
          ...(version(rejection?.version) !== null
            ? { version: version(rejection?.version) as number }
            : {}),
          reason,
          at: text(rejection?.at, 40) ?? seenAt,
        }
      : null,
    lastSeen: seenAt,
  };
}
