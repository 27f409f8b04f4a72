import {
  configTopic,
  type JsonSchema,
  parseSchemaTopic,
  schemaHashOf,
  schemaTopic,
} from '@app/contracts';
import { EnvelopeVerifier, type SchemaVerdict } from '@app/config-client';
import { assertIntent, type Intent, premise, withChanges } from './vector-case';
import {
  ISSUED_AT,
  jsonBytes,
  messageOf,
  signedEnvelope,
  type VectorKeys,
  type VectorMessage,
  type VectorSigningKey,
  trustedKeyMap,
  trustedKeysJson,
} from './vector-keys';
import { VECTOR_WORKER, vectorWorkerSchema } from './vector-worker.schema';

/** The `expect` of a schema envelope vector (see the README). */
export type SchemaEnvelopeExpect =
  | { verdict: 'accepted'; schemaHash: string; schemaVersion: number }
  | { verdict: 'rejected'; reason: string; schemaVersion?: number };

/** One case of schema-envelopes.json. */
export interface SchemaEnvelopeVector {
  name: string;
  rule: number | null;
  description: string;
  topic: string;
  message: VectorMessage;
  expect: SchemaEnvelopeExpect;
}

interface CaseSpec {
  readonly name: string;
  readonly rule: number | null;
  readonly description: string;
  readonly topic?: string;
  readonly message: Buffer;
  readonly intent: Intent;
}

const FILE = 'schema-envelopes.json';

/** The verdict in the files' words. */
export function schemaExpectOf(verdict: SchemaVerdict): SchemaEnvelopeExpect {
  if (verdict.kind === 'accepted') {
    return {
      verdict: 'accepted',
      schemaHash: verdict.schema.schemaHash,
      schemaVersion: verdict.schema.schemaVersion,
    };
  }
  return verdict.schemaVersion === undefined
    ? { verdict: 'rejected', reason: verdict.reason }
    : { verdict: 'rejected', reason: verdict.reason, schemaVersion: verdict.schemaVersion };
}

/**
 * schema-envelopes.json: messages on system/schema/vector-worker (the signed JSON Schema of the
 * service, for workers that validate with it), each with the verdict of the SDK's
 * EnvelopeVerifier.verifySchema: rules 0-2 as for configs, the service (3), and a schemaHash
 * recomputed from the schema and a schema the manager's registration would accept (5).
 */
export function schemaEnvelopeVectors(keys: VectorKeys): Record<string, unknown> {
  const verifier = new EnvelopeVerifier({
    service: VECTOR_WORKER,
    trustedKeys: trustedKeyMap(keys),
  });
  const cases = schemaEnvelopeCases(keys).map((spec): SchemaEnvelopeVector => {
    const topic = spec.topic ?? schemaTopic(VECTOR_WORKER);
    const verdict = verifier.verifySchema(spec.message, {
      topicService: parseSchemaTopic(topic)?.service,
    });
    const expect = schemaExpectOf(verdict);
    assertIntent(FILE, spec.name, spec.intent, expect, 'detail' in verdict ? verdict.detail : '');
    return {
      name: spec.name,
      rule: spec.rule,
      description: spec.description,
      topic,
      message: messageOf(spec.message),
      expect,
    };
  });
  premise(new Set(cases.map((c) => c.name)).size === cases.length, 'case names are unique');
  return {
    service: VECTOR_WORKER,
    trustedKeys: trustedKeysJson(keys),
    cases,
  };
}

function schemaEnvelopeCases(keys: VectorKeys): CaseSpec[] {
  const { signing, retiredSigning, untrusted } = keys;
  const schema = vectorWorkerSchema();
  const payload = (changes: Record<string, unknown> = {}, of: JsonSchema = schema) =>
    withChanges(
      {
        service: VECTOR_WORKER,
        schemaVersion: 1,
        schemaHash: schemaHashOf(of),
        schema: of,
        issuedAt: ISSUED_AT,
      },
      changes,
    );
  /** A payload carrying `of` under its own (correct) hash. */
  const carrying = (of: JsonSchema) => payload({}, of);
  const signed = (body: object | Buffer, signer: VectorSigningKey = signing) =>
    jsonBytes(signedEnvelope(body, signer));
  const withProperty = (name: string, property: Record<string, unknown>): JsonSchema => ({
    ...schema,
    properties: { ...schema.properties, [name]: property },
  });
  const accepted: Intent = { verdict: 'accepted' };
  const rejected = (reason: Extract<Intent, { reason: string }>['reason']): Intent => ({
    verdict: 'rejected',
    reason,
  });

  // The schema as JSON text with numbers spelled the way no JSON.stringify writes them; the
  // hash is over the canonical JSON of the parsed schema, where 1.0 is 1 and 1E3 is 1000.
  const spelled = withProperty('ratio', {
    type: 'number',
    minimum: 0,
    maximum: 1000,
    multipleOf: 0.5,
    default: 1000,
  });
  const spelledHash = schemaHashOf(spelled);
  const spelledText = JSON.stringify(payload({ schemaHash: spelledHash }, spelled)).replace(
    '"ratio":{"type":"number","minimum":0,"maximum":1000,"multipleOf":0.5,"default":1000}',
    '"ratio":{"type":"number","minimum":-0.0,"maximum":1.0E3,"multipleOf":5e-1,"default":1000.000}',
  );
  premise(spelledText.includes('1.0E3'), 'the schema text spells its numbers unusually');

  return [
    {
      name: 'schema-accepted',
      rule: null,
      description: 'vector-worker’s schema (the one of config-envelopes.json), version 1.',
      message: signed(payload()),
      intent: accepted,
    },
    {
      name: 'schema-accepted-retired-key',
      rule: null,
      description: 'The same schema, version 2, signed by the retired (still trusted) key.',
      message: signed(payload({ schemaVersion: 2 }), retiredSigning),
      intent: accepted,
    },
    {
      name: 'schema-accepted-unusual-number-spelling',
      rule: null,
      description:
        'The signed payload text spells numbers of the schema as -0.0, 1.0E3, 5e-1 and 1000.000: the schemaHash is that of the parsed schema’s canonical JSON (0, 1000, 0.5, 1000).',
      message: signed(Buffer.from(spelledText, 'utf8')),
      intent: accepted,
    },
    {
      name: 'schema-accepted-without-issued-at',
      rule: null,
      description: 'A schema payload without issuedAt.',
      message: signed(payload({ issuedAt: undefined })),
      intent: accepted,
    },
    {
      name: 'schema-hash-mismatch',
      rule: 5,
      description: 'schemaHash is not the hash of the schema carried (recomputed, never trusted).',
      message: signed(payload({ schemaHash: `sha256:${'0'.repeat(64)}` })),
      intent: rejected('schema'),
    },
    {
      name: 'schema-hash-of-another-key-order',
      rule: null,
      description:
        'The schema serialised with its keys in another order, same hash: the hash is over the canonical JSON, not the bytes.',
      message: signed(
        Buffer.from(
          JSON.stringify({
            issuedAt: ISSUED_AT,
            schema: Object.fromEntries(Object.entries(schema).reverse()),
            schemaHash: schemaHashOf(schema),
            schemaVersion: 3,
            service: VECTOR_WORKER,
          }),
          'utf8',
        ),
      ),
      intent: accepted,
    },
    {
      name: 'schema-unsupported-keyword',
      rule: 5,
      description:
        'A property uses "format", which is not among the supported keywords: the schema is refused, not half-understood.',
      message: signed(
        carrying(withProperty('email', { type: 'string', format: 'email', default: '' })),
      ),
      intent: rejected('schema'),
    },
    {
      name: 'schema-remote-ref',
      rule: 5,
      description: 'A $ref to another document: only local #/$defs/Name references are supported.',
      message: signed(
        carrying(withProperty('remote', { $ref: 'https://example.com/schema.json', default: 1 })),
      ),
      intent: rejected('schema'),
    },
    {
      name: 'schema-root-not-an-object',
      rule: 5,
      description: 'The schema describes an array, not an object configuration.',
      message: signed(carrying({ type: 'array', items: { type: 'string' } })),
      intent: rejected('schema'),
    },
    {
      name: 'schema-defaults-invalid',
      rule: 5,
      description:
        'A default that breaks its own range (default 0, minimum 1): the defaults make version 1.',
      message: signed(
        carrying(withProperty('retries', { type: 'integer', minimum: 1, default: 0 })),
      ),
      intent: rejected('schema'),
    },
    {
      name: 'schema-secret-with-default',
      rule: 5,
      description:
        'A secret (writeOnly) with a non-empty default: the schema is published in clear, so it may not hold a secret value.',
      message: signed(
        carrying(
          withProperty('token', { type: 'string', writeOnly: true, default: 'sk-in-clear' }),
        ),
      ),
      intent: rejected('schema'),
    },
    {
      name: 'schema-for-other-service',
      rule: 3,
      description: 'A schema payload for other-worker on vector-worker’s schema topic.',
      message: signed(payload({ service: 'other-worker' })),
      intent: rejected('service'),
    },
    {
      name: 'schema-topic-of-other-service',
      rule: 3,
      description: 'vector-worker’s schema delivered on system/schema/other-worker.',
      topic: schemaTopic('other-worker'),
      message: signed(payload()),
      intent: rejected('service'),
    },
    {
      name: 'schema-on-the-config-topic',
      rule: 3,
      description: 'A schema envelope arriving on system/config/vector-worker: not a schema topic.',
      topic: configTopic(VECTOR_WORKER),
      message: signed(payload()),
      intent: rejected('service'),
    },
    {
      name: 'schema-bad-signature',
      rule: 2,
      description: 'Signed by the untrusted key under the trusted signing kid.',
      message: jsonBytes(signedEnvelope(payload(), untrusted, { kid: signing.kid })),
      intent: rejected('signature'),
    },
    {
      name: 'schema-unknown-key',
      rule: 1,
      description: 'Signed by the untrusted key under its own kid.',
      message: signed(payload(), untrusted),
      intent: rejected('unknown-key'),
    },
    {
      name: 'schema-malformed-not-json',
      rule: 1,
      description: 'The message is not JSON.',
      message: Buffer.from('schema, please', 'utf8'),
      intent: rejected('malformed'),
    },
    {
      name: 'schema-version-zero',
      rule: 4,
      description: 'schemaVersion 0: a schema version is a positive integer.',
      message: signed(payload({ schemaVersion: 0 })),
      intent: rejected('malformed'),
    },
    {
      name: 'schema-version-missing',
      rule: 4,
      description: 'A schema payload without schemaVersion.',
      message: signed(payload({ schemaVersion: undefined })),
      intent: rejected('malformed'),
    },
    {
      name: 'schema-missing-schema',
      rule: 5,
      description: 'A schema payload without its schema.',
      message: signed(payload({ schema: undefined })),
      intent: rejected('malformed'),
    },
    {
      name: 'schema-hash-not-a-string',
      rule: 5,
      description: 'schemaHash is a number.',
      message: signed(payload({ schemaHash: 1 })),
      intent: rejected('malformed'),
    },
  ];
}
