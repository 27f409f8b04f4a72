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

// The JSON text of each current state's response (per definition and published flag).
const serialized = new WeakMap<
  ConfigState,
  { definition: ServiceDefinition; published: boolean; text: string }
>();

/**
 * The GET config body as JSON text, serialised once per state: a state never changes (a change
 * makes a new one), so the hot read path sends the same text until the next version, or until
 * the version is acknowledged by the broker (`published` flips) or the schema changes.
 */
export function configResponseText(
  definition: ServiceDefinition,
  state: ConfigState,
  published: boolean,
): string {
  const known = serialized.get(state);
  if (known?.definition === definition && known.published === published) return known.text;
  const text = JSON.stringify(toConfigResponse(definition, state, published));
  serialized.set(state, { definition, published, text });
  return text;
}
