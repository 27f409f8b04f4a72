// The JSON Schemas of the wire messages in docs/schemas/, generated from the TypeScript types
// in libs/contracts (their JSDoc tags carry formats, patterns and integer bounds), so the docs
// cannot describe another message than the code sends. `npm run wire-schemas` writes them;
// libs/contracts/src/wire-schemas.spec.ts fails when the checked-in files differ.
import { join } from 'node:path';
import { createGenerator, type Config } from 'ts-json-schema-generator';

const ROOT = join(__dirname, '..', '..', '..');

/** Where the generated schemas are checked in. */
export const WIRE_SCHEMAS_DIR = join(ROOT, 'docs', 'schemas');

const SCHEMA_BASE = 'https://config-centre.dev/schemas/';

interface WireMessage {
  readonly file: string;
  readonly source: string;
  readonly type: string;
  readonly title: string;
}

/** Every message a worker or the manager puts on the bus, with the type that defines it. */
export const WIRE_MESSAGES: readonly WireMessage[] = [
  {
    file: 'signed-envelope.schema.json',
    source: 'libs/contracts/src/envelope.ts',
    type: 'SignedEnvelope',
    title: 'Signed envelope (system/config/<service> and system/schema/<service>)',
  },
  {
    file: 'config-payload.schema.json',
    source: 'libs/contracts/src/envelope.ts',
    type: 'ConfigPayload',
    title: 'Config payload (signed, on system/config/<service>)',
  },
  {
    file: 'candidate-payload.schema.json',
    source: 'libs/contracts/src/envelope.ts',
    type: 'CandidatePayload',
    title: 'Candidate payload of a rollout (signed, on system/candidate/<service>)',
  },
  {
    file: 'archived-payload.schema.json',
    source: 'libs/contracts/src/envelope.ts',
    type: 'ArchivedPayload',
    title: 'Archive tombstone payload (signed, on system/config/<service>)',
  },
  {
    file: 'schema-payload.schema.json',
    source: 'libs/contracts/src/envelope.ts',
    type: 'SchemaPayload',
    title: 'Schema payload (signed, on system/schema/<service>)',
  },
  {
    file: 'instance-status.schema.json',
    source: 'libs/contracts/src/health/instance-status.ts',
    type: 'InstanceStatus',
    title: 'Instance status (system/health/<service>/<instanceId>, also the last will)',
  },
  {
    file: 'manager-status.schema.json',
    source: 'libs/contracts/src/health/manager-status.ts',
    type: 'ManagerStatus',
    title: 'Manager status (system/health/config-manager)',
  },
];

/** The schemas by file name, as `npm run wire-schemas` writes them (without the trailing newline). */
export function buildWireSchemas(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const message of WIRE_MESSAGES) {
    const config: Config = {
      path: join(ROOT, message.source),
      tsconfig: join(ROOT, 'tsconfig.json'),
      type: message.type,
      expose: 'export',
      topRef: false,
      jsDoc: 'extended',
      skipTypeCheck: true,
      // Readers ignore fields they do not know: later versions of the contract add fields.
      additionalProperties: true,
    };
    const generated = createGenerator(config).createSchema(message.type) as Record<string, unknown>;
    const { definitions, ...body } = generated;
    delete body.$schema;
    const schema: Record<string, unknown> = {
      $schema: 'http://json-schema.org/draft-07/schema#',
      $id: `${SCHEMA_BASE}${message.file}`,
      title: message.title,
      ...body,
    };
    if (definitions !== undefined && Object.keys(definitions as object).length > 0) {
      schema.definitions = definitions;
    }
    files[message.file] = JSON.stringify(schema, null, 2);
  }
  return files;
}
