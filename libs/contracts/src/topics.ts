/** Service names, which are also MQTT topic segments. */
export const SERVICE_NAME_PATTERN = /^[a-z][a-z0-9-]{1,62}$/;

/** Worker instance ids: one MQTT topic segment, so no `/`, `+`, `#` or whitespace. */
export const INSTANCE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** Retained health topic of the config-manager itself. */
export const MANAGER_HEALTH_TOPIC = 'system/health/config-manager';

/** Subscription filter for every service's configuration topic. */
export const CONFIG_TOPIC_FILTER = 'system/config/+';

/** Subscription filter for every worker instance's health topic. */
export const INSTANCE_HEALTH_TOPIC_FILTER = 'system/health/+/+';

/** Subscription filter for every service's schema topic. */
export const SCHEMA_TOPIC_FILTER = 'system/schema/+';

/** `system/schema/<service>`: where the signed current JSON Schema of a service is retained. */
export function schemaTopic(service: string): string {
  return `system/schema/${checkedSegment(service, SERVICE_NAME_PATTERN, 'service name')}`;
}

/** The service of a `system/schema/<service>` topic, or undefined for any other topic. */
export function parseSchemaTopic(topic: string): { service: string } | undefined {
  const parts = topic.split('/');
  if (parts.length !== 3 || parts[0] !== 'system' || parts[1] !== 'schema') return undefined;
  return SERVICE_NAME_PATTERN.test(parts[2]) ? { service: parts[2] } : undefined;
}

/** Subscription filter for every service's candidate topic (rollouts). */
export const CANDIDATE_TOPIC_FILTER = 'system/candidate/+';

/** `system/candidate/<service>`: where a rollout's signed candidate version is retained. */
export function candidateTopic(service: string): string {
  return `system/candidate/${checkedSegment(service, SERVICE_NAME_PATTERN, 'service name')}`;
}

/** The service of a `system/candidate/<service>` topic, or undefined for any other topic. */
export function parseCandidateTopic(topic: string): { service: string } | undefined {
  const parts = topic.split('/');
  if (parts.length !== 3 || parts[0] !== 'system' || parts[1] !== 'candidate') return undefined;
  return SERVICE_NAME_PATTERN.test(parts[2]) ? { service: parts[2] } : undefined;
}

/** `system/config/<service>`: where the signed configuration of a service is retained. */
export function configTopic(service: string): string {
  return `system/config/${checkedSegment(service, SERVICE_NAME_PATTERN, 'service name')}`;
}

/** `system/health/<service>/<instanceId>`: where a worker instance reports its status. */
export function healthTopic(service: string, instanceId: string): string {
  const serviceSegment = checkedSegment(service, SERVICE_NAME_PATTERN, 'service name');
  return `system/health/${serviceSegment}/${checkedSegment(instanceId, INSTANCE_ID_PATTERN, 'instance id')}`;
}

/** The service of a `system/config/<service>` topic, or undefined for any other topic. */
export function parseConfigTopic(topic: string): { service: string } | undefined {
  const parts = topic.split('/');
  if (parts.length !== 3 || parts[0] !== 'system' || parts[1] !== 'config') {
    return undefined;
  }
  const service = parts[2];
  return SERVICE_NAME_PATTERN.test(service) ? { service } : undefined;
}

/** The service and instance of a `system/health/<service>/<instanceId>` topic, or undefined for any other topic. */
export function parseHealthTopic(
  topic: string,
): { service: string; instanceId: string } | undefined {
  const parts = topic.split('/');
  if (parts.length !== 4 || parts[0] !== 'system' || parts[1] !== 'health') {
    return undefined;
  }
  const [, , service, instanceId] = parts;
  return SERVICE_NAME_PATTERN.test(service) && INSTANCE_ID_PATTERN.test(instanceId)
    ? { service, instanceId }
    : undefined;
}

// A name that is not a valid segment would publish to (or subscribe across) someone else's topics.
function checkedSegment(value: string, pattern: RegExp, what: string): string {
  if (!pattern.test(value)) {
    throw new RangeError(`invalid ${what} ${JSON.stringify(value)}: must match ${String(pattern)}`);
  }
  return value;
}
