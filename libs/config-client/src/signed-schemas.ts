import {
  checkServiceSchema,
  isPlainObject,
  type RejectionReason,
  schemaHashOf,
  type ServiceDefinition,
} from '@app/contracts';
import { echo, isVersion, ownField } from './envelope-reader';

/** A schema envelope from `system/schema/<service>` that passed verification. */
export interface SignedSchema {
  readonly service: string;
  readonly schemaVersion: number;
  /** Recomputed from the schema itself (schemaHashOf), and equal to what the payload says. */
  readonly schemaHash: string;
  readonly issuedAt?: string;
  /** The schema as a definition: rule 5, defaults and secret paths come from it. */
  readonly definition: ServiceDefinition;
  /** The exact envelope bytes, kept for the last-known-good file. */
  readonly envelopeBytes: Buffer;
}

/** Where rule 5 finds a signed schema by the `schemaHash` a config payload names. */
export interface SignedSchemaLookup {
  get(schemaHash: string): SignedSchema | undefined;
}

/** The verdict on one schema message; never an exception. */
export type SchemaVerdict =
  | { readonly kind: 'accepted'; readonly schema: SignedSchema }
  | {
      readonly kind: 'rejected';
      readonly reason: RejectionReason;
      /** Only once the signature verified. */
      readonly schemaVersion?: number;
      /** For logs and events. */
      readonly detail: string;
    };

type Rejected = Extract<SchemaVerdict, { kind: 'rejected' }>;

// Enough to explain an unusable schema in a log line.
const MAX_PROBLEMS_IN_DETAIL = 3;

/**
 * Rules 3 and 5 for the signed payload of a schema envelope (rules 0-2 are readSignedEnvelope's):
 * the service is the topic's and the client's, `schemaVersion` a positive integer, `schemaHash`
 * the hash of the schema it carries (recomputed, never trusted), and the schema one that
 * checkServiceSchema accepts, as the manager's registration does.
 */
export function checkSchemaPayload(
  payload: Record<string, unknown>,
  envelopeBytes: Uint8Array,
  expected: { readonly service: string; readonly topicService: string | undefined },
): SchemaVerdict {
  const rawVersion = ownField(payload, 'schemaVersion');
  const schemaVersion = isVersion(rawVersion) ? rawVersion : undefined;
  const service = ownField(payload, 'service');
  if (
    typeof service !== 'string' ||
    service !== expected.topicService ||
    service !== expected.service
  ) {
    return reject(
      'service',
      `schema payload is for service ${typeof service === 'string' ? echo(service) : '(none)'}, ` +
        `the topic is for ${expected.topicService === undefined ? '(no service)' : echo(expected.topicService)} ` +
        `and this client is ${expected.service}`,
      schemaVersion,
    );
  }
  if (schemaVersion === undefined) {
    return reject('malformed', 'payload.schemaVersion must be a positive integer');
  }
  const claimed = ownField(payload, 'schemaHash');
  const schema = ownField(payload, 'schema');
  if (typeof claimed !== 'string' || !isPlainObject(schema)) {
    return reject(
      'malformed',
      'schema payload must have a string schemaHash and an object schema',
      schemaVersion,
    );
  }
  const actual = schemaHashOf(schema);
  if (actual !== claimed) {
    return reject(
      'schema',
      `schemaHash ${echo(claimed)} is not the hash of the schema it carries (${actual})`,
      schemaVersion,
    );
  }
  const check = checkServiceSchema(service, '', schema);
  if (!check.ok) {
    return reject(
      'schema',
      `schema version ${schemaVersion} is not a usable configuration schema: ${summarize(check.problems)}`,
      schemaVersion,
    );
  }
  const issuedAt = ownField(payload, 'issuedAt');
  return {
    kind: 'accepted',
    schema: Object.freeze({
      service,
      schemaVersion,
      schemaHash: check.definition.schemaHash,
      ...(typeof issuedAt === 'string' ? { issuedAt } : {}),
      definition: check.definition,
      envelopeBytes: Buffer.from(envelopeBytes),
    }),
  };
}

/** How many verified schemas a client keeps (a config names one by hash). */
export const MAX_SIGNED_SCHEMAS = 8;

/**
 * The verified signed schemas of one client by hash, the most recently received or used last;
 * bounded, so a flood of (genuine, replayed) schemas cannot grow it.
 */
export class SignedSchemaStore implements SignedSchemaLookup {
  private readonly byHash = new Map<string, SignedSchema>();

  constructor(private readonly capacity = MAX_SIGNED_SCHEMAS) {}

  /** Adds (or refreshes) a schema; false when it was known already. */
  add(schema: SignedSchema): boolean {
    const known = this.byHash.delete(schema.schemaHash);
    this.byHash.set(schema.schemaHash, schema);
    while (this.byHash.size > this.capacity) {
      const oldest = this.byHash.keys().next().value;
      if (oldest === undefined) break;
      this.byHash.delete(oldest);
    }
    return !known;
  }

  /** The schema with this hash (now the most recently used), or undefined. */
  get(schemaHash: string): SignedSchema | undefined {
    const schema = this.byHash.get(schemaHash);
    if (schema !== undefined) {
      this.byHash.delete(schemaHash);
      this.byHash.set(schemaHash, schema);
    }
    return schema;
  }

  get size(): number {
    return this.byHash.size;
  }
}

function reject(reason: RejectionReason, detail: string, schemaVersion?: number): Rejected {
  return schemaVersion === undefined
    ? { kind: 'rejected', reason, detail }
    : { kind: 'rejected', reason, schemaVersion, detail };
}

function summarize(issues: readonly { readonly message: string }[]): string {
  const shown = issues.slice(0, MAX_PROBLEMS_IN_DETAIL).map((issue) => issue.message);
  const more = issues.length - shown.length;
  return shown.join('; ') + (more > 0 ? ` (and ${more} more)` : '');
}
