import {
  checkServiceSchema,
  type JsonSchema,
  SCHEMA_DIALECT,
  type ServiceDefinition,
} from '@app/contracts';

/** The service of the config and schema envelope vectors. */
export const VECTOR_WORKER = 'vector-worker';

/**
 * vector-worker's JSON Schema: small enough to read in the files, yet with every rule a config
 * envelope meets: types, a range, an enum, lengths, a nested object with an `x-sum`, a
 * cross-field rule, an array, and a secret (`api.key`).
 */
export function vectorWorkerSchema(): JsonSchema {
  return {
    $schema: SCHEMA_DIALECT,
    title: 'vector-worker',
    description: 'The service of the cross-language test vectors',
    type: 'object',
    additionalProperties: false,
    properties: {
      batch_size: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
      mode: { type: 'string', enum: ['fast', 'safe'], default: 'safe' },
      label: { type: 'string', minLength: 1, maxLength: 16, default: 'main' },
      weights: {
        type: 'object',
        additionalProperties: false,
        'x-sum': { equals: 1, tolerance: 0.001 },
        properties: {
          title: { type: 'number', minimum: 0, maximum: 1, default: 0.6 },
          body: { type: 'number', minimum: 0, maximum: 1, default: 0.4 },
        },
      },
      limits: {
        type: 'object',
        additionalProperties: false,
        properties: {
          soft: { type: 'number', minimum: 0, 'x-not-greater-than': 'hard', default: 100 },
          hard: { type: 'number', minimum: 0, default: 200 },
        },
      },
      tags: {
        type: 'array',
        items: { type: 'string', minLength: 1, maxLength: 20 },
        maxItems: 5,
        default: [],
      },
      api: {
        type: 'object',
        additionalProperties: false,
        properties: {
          url: { type: 'string', maxLength: 200, default: 'https://api.example' },
          key: { type: 'string', writeOnly: true, maxLength: 64, default: '' },
        },
      },
    },
  };
}

/**
 * The definition a registered service gets from its schema (checkServiceSchema, as the manager's
 * registration and a signed schema do); throws when the schema is not one the manager accepts.
 */
export function definitionFromSchema(service: string, schema: JsonSchema): ServiceDefinition {
  const check = checkServiceSchema(service, '', schema);
  if (!check.ok) {
    const problems = check.problems.map((problem) => problem.message).join('; ');
    throw new Error(`test vectors: the schema of ${service} is not accepted: ${problems}`);
  }
  return check.definition;
}
