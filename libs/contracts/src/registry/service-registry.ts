import { MatchingConfig } from '../dedup-worker/matching-config.schema';
import { defineService, type ServiceDefinition } from './service-definition';

/** Name of the event de-duplication worker service. */
export const DEDUP_WORKER_SERVICE = 'dedup-worker';

/** Every service the config centre manages; adding a service is one entry here. */
export const SERVICE_REGISTRY: readonly ServiceDefinition[] = Object.freeze([
  defineService({
    name: DEDUP_WORKER_SERVICE,
    description:
      'Event de-duplication pipeline: similarity scoring, clustering, canonical merge and AI tie-breaks.',
    schema: MatchingConfig,
  }),
]);

assertUniqueNames(SERVICE_REGISTRY);

/** All service definitions, in registry order. */
export function serviceDefinitions(): readonly ServiceDefinition[] {
  return SERVICE_REGISTRY;
}

/** The definition of the named service, or undefined for an unknown service. */
export function findServiceDefinition(name: string): ServiceDefinition | undefined {
  return SERVICE_REGISTRY.find((definition) => definition.name === name);
}

function assertUniqueNames(definitions: readonly ServiceDefinition[]): void {
  const names = definitions.map((definition) => definition.name);
  const duplicate = names.find((name, index) => names.indexOf(name) !== index);
  if (duplicate !== undefined) {
    throw new TypeError(`service ${duplicate} is registered twice`);
  }
}
