import type { ConfigState, SecretState } from './config-state';
import type { ServiceDefinition } from '@app/contracts';

/** The body of GET/PATCH/PUT config: values, and for secrets only whether they are set. */
export interface ConfigResponse {
  service: string;
  version: number;
  updatedAt: string;
  updatedBy: string;
  config: Readonly<Record<string, unknown>>;
  secrets: Record<string, SecretState>;
  /** Whether the MQTT broker acknowledged this version (false: committed, not yet delivered). */
  published: boolean;
}

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
