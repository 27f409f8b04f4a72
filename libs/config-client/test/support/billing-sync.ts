import { IsArray, IsInt, IsString, Max, Min } from 'class-validator';
import {
  checkServiceSchema,
  Describe,
  defineService,
  findServiceDefinition,
  MaxCodePoints,
  NestedConfig,
  Secret,
  type ServiceDefinition,
} from '@app/contracts';

/**
 * A service registered on the manager at runtime and compiled into no SDK: what issue 14's
 * workers bring (a class, a JSON Schema) or receive (the signed schema).
 */
export const BILLING_SYNC = 'billing-sync';

if (findServiceDefinition(BILLING_SYNC) !== undefined) {
  throw new Error(`${BILLING_SYNC} must stay unknown to the static registry for these tests`);
}

/** billing-sync's batch section. */
export class BatchSettings {
  @Describe('Rows per batch')
  @IsInt()
  @Min(1)
  @Max(1000)
  size = 50;
}

/** billing-sync's configuration as a worker's typed source. */
export class BillingSyncConfig {
  @Describe('Batching')
  @NestedConfig(() => BatchSettings)
  batch = new BatchSettings();

  @Describe('API token of the billing system')
  @IsString()
  @MaxCodePoints(200)
  @Secret()
  token = '';

  @Describe('Regions to sync')
  @IsArray()
  @IsString({ each: true })
  regions: string[] = ['eu'];
}

/** The definition a worker derives from BillingSyncConfig (description '', as ConfigClient does). */
export function billingSyncClassDefinition(): ServiceDefinition {
  return defineService({ name: BILLING_SYNC, description: '', schema: BillingSyncConfig });
}

/** billing-sync's JSON Schema as an admin registers it (PUT /api/services/billing-sync). */
export function billingSyncSchema(
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: BILLING_SYNC,
    type: 'object',
    additionalProperties: false,
    properties: {
      batch: {
        type: 'object',
        additionalProperties: false,
        properties: {
          size: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
          min_size: { type: 'integer', minimum: 1, default: 10, 'x-not-greater-than': 'size' },
        },
        default: {},
      },
      token: { type: 'string', writeOnly: true, maxLength: 200, default: '' },
      regions: { type: 'array', items: { type: 'string', minLength: 1 }, default: ['eu'] },
    },
    ...overrides,
  };
}

/** The definition of a registered JSON Schema, as the manager and the SDK derive it. */
export function definitionOfSchema(schema: Record<string, unknown>): ServiceDefinition {
  const check = checkServiceSchema(BILLING_SYNC, '', schema);
  if (!check.ok) throw new Error(`test schema is invalid: ${JSON.stringify(check.problems)}`);
  return check.definition;
}
