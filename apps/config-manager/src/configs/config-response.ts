import type { ConfigResponse, SecretState, ServiceDefinition } from '@app/contracts';
import type { ConfigState } from './config-state';

/** Secret flags for every secret path of the service (a path added later shows as not set). */
export function secretFlags(
  definition: ServiceDefinition,
  secrets: Readonly<Record<string, SecretState>>,
): Record<string, SecretState> {
  return Object.fromEntries(
    definition.secretPaths.map((path) => [path, secrets[path] ?? { set: false, updatedAt: null }]),
  );
}

/** The GET/PATCH/PUT body for a state. */
export function toConfigResponse(
  definition: ServiceDefinition,
  state: ConfigState,
  published: boolean,
): ConfigResponse {
  return {
    service: state.service,
    version: state.version,
    updatedAt: state.updatedAt,
    updatedBy: state.updatedBy,
    config: state.config,
    secrets: secretFlags(definition, state.secrets),
    published,
  };
}
