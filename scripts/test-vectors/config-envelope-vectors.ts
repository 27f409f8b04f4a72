import {
  configTopic,
  MAX_ENVELOPE_BYTES,
  parseConfigTopic,
  schemaTopic,
  type ServiceDefinition,
  type SignedEnvelope,
} from '@app/contracts';
import { type EnvelopeVerdict, EnvelopeVerifier } from '@app/config-client';
import { naclVerify } from '@app/crypto';
import { assertIntent, type Intent, premise, withChanges } from './vector-case';
import {
  ISSUED_AT,
  jsonBytes,
  messageOf,
  sealWithLabel,
  signedEnvelope,
  type VectorKeys,
  type VectorMessage,
  type VectorSigningKey,
  trustedKeyMap,
  trustedKeysJson,
} from './vector-keys';
import { definitionFromSchema, VECTOR_WORKER, vectorWorkerSchema } from './vector-worker.schema';

/** The `expect` of a config envelope vector (see the README). */
export type ConfigEnvelopeExpect =
  | { verdict: 'accepted'; version: number; config: Record<string, unknown> }
  | { verdict: 'duplicate' | 'archived'; version: number }
  | { verdict: 'rejected'; reason: string; version?: number };

/** One case of config-envelopes.json. */
export interface ConfigEnvelopeVector {
  name: string;
  rule: number | null;
  description: string;
  topic: string;
  appliedVersion: number;
  /** The worker's clock for rule 4a (expiry), on the cases whose verdict depends on it. */
  now?: string;
  message: VectorMessage;
  expect: ConfigEnvelopeExpect;
}

interface CaseSpec {
  readonly name: string;
  readonly rule: number | null;
  readonly description: string;
  readonly topic?: string;
  readonly appliedVersion?: number;
  readonly now?: string;
  readonly message: Buffer;
  readonly intent: Intent;
}

const FILE = 'config-envelopes.json';
// ISSUED_AT + 7 days: the manager's default CONFIG_ENVELOPE_TTL_SECONDS.
const EXPIRES_AT = '2026-11-28T20:00:00.000Z';
// Ed25519's group order: S + L verifies with a verifier that does not reduce S (tweetnacl).
const GROUP_ORDER = 2n ** 252n + 27742317777372353535851937790883648493n;
const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** The verdict in the files' words. */
export function configExpectOf(verdict: EnvelopeVerdict): ConfigEnvelopeExpect {
  switch (verdict.kind) {
    case 'accepted':
      return { verdict: 'accepted', version: verdict.version, config: verdict.config };
    case 'duplicate':
    case 'archived':
      return { verdict: verdict.kind, version: verdict.version };
    case 'rejected':
      return verdict.version === undefined
        ? { verdict: 'rejected', reason: verdict.reason }
        : { verdict: 'rejected', reason: verdict.reason, version: verdict.version };
    case 'pending':
      throw new Error('test vectors: a verifier with its own schema never answers pending');
    case 'behind-candidate':
    case 'not-targeted':
    case 'no-candidate':
      throw new Error(
        `test vectors: ${verdict.kind} is a rollout verdict: such cases go in candidate-envelopes.json`,
      );
  }
}

/**
 * config-envelopes.json: messages on system/config/vector-worker, each with the verdict the SDK's
 * EnvelopeVerifier gives it, for every rule of the design (0 to 6) and the accepted cases.
 */
export function configEnvelopeVectors(keys: VectorKeys): Record<string, unknown> {
  const definition = definitionFromSchema(VECTOR_WORKER, vectorWorkerSchema());
  const verifier = new EnvelopeVerifier({
    definition,
    trustedKeys: trustedKeyMap(keys),
    secretKey: keys.recipient.secretKey,
  });
  const cases = configEnvelopeCases(keys, definition).map((spec): ConfigEnvelopeVector => {
    const topic = spec.topic ?? configTopic(VECTOR_WORKER);
    const appliedVersion = spec.appliedVersion ?? 0;
    const verdict = verifier.verify(spec.message, {
      topicService: parseConfigTopic(topic)?.service,
      appliedVersion,
      ...(spec.now === undefined ? {} : { now: Date.parse(spec.now) }),
    });
    const expect = configExpectOf(verdict);
    assertIntent(FILE, spec.name, spec.intent, expect, 'detail' in verdict ? verdict.detail : '');
    return {
      name: spec.name,
      rule: spec.rule,
      description: spec.description,
      topic,
      appliedVersion,
      ...(spec.now === undefined ? {} : { now: spec.now }),
      message: messageOf(spec.message),
      expect,
    };
  });
  premise(new Set(cases.map((c) => c.name)).size === cases.length, 'case names are unique');
  return {
    service: VECTOR_WORKER,
    schema: definition.jsonSchema,
    trustedKeys: trustedKeysJson(keys),
    recipientSecretKey: keys.recipient.secretKey.toString('base64'),
    cases,
  };
}

// One list, read top to bottom in the design's order; each case says what it shows and why.
function configEnvelopeCases(keys: VectorKeys, definition: ServiceDefinition): CaseSpec[] {
  const { signing, retiredSigning, untrusted, recipient, otherRecipient } = keys;

  /** Every non-secret value, none of them the default. */
  const fullConfig = (): Record<string, unknown> => ({
    batch_size: 120,
    mode: 'fast',
    label: 'eu-west',
    weights: { title: 0.7, body: 0.3 },
    limits: { soft: 50, hard: 80 },
    tags: ['alpha', 'beta'],
    api: { url: 'https://api.example/v2' },
  });
  const payload = (version: number, changes: Record<string, unknown> = {}) =>
    withChanges(
      {
        service: VECTOR_WORKER,
        version,
        issuedAt: ISSUED_AT,
        schemaHash: definition.schemaHash,
        config: fullConfig(),
        secrets: {},
      },
      changes,
    );
  const configWith = (changes: Record<string, unknown>) => withChanges(fullConfig(), changes);
  const signed = (body: object | Buffer, signer: VectorSigningKey = signing) =>
    jsonBytes(signedEnvelope(body, signer));
  const envelope = (version = 1): SignedEnvelope => signedEnvelope(payload(version), signing);
  const seal = (label: string, value: string | Buffer, to = recipient.publicKey) =>
    sealWithLabel(`config-envelopes ${label}`, value, to);
  const withSecret = (version: number, sealed: unknown) =>
    signed(payload(version, { secrets: { 'api.key': sealed } }));

  const accepted: Intent = { verdict: 'accepted' };
  const rejected = (reason: Extract<Intent, { reason: string }>['reason']): Intent => ({
    verdict: 'rejected',
    reason,
  });

  const sizeCases = (): CaseSpec[] => {
    const compact = signed(payload(1)).toString('utf8');
    const atLimit = `${compact.slice(0, -1)}${' '.repeat(MAX_ENVELOPE_BYTES - Buffer.byteLength(compact))}}`;
    premise(
      Buffer.byteLength(atLimit) === MAX_ENVELOPE_BYTES,
      'the padded envelope is 262144 bytes',
    );
    // Two-byte characters: 262145 bytes, but far fewer characters than the limit.
    const over = MAX_ENVELOPE_BYTES + 1 - Buffer.byteLength(compact);
    const overLimit = `${compact}${over % 2 === 1 ? ' ' : ''}${'é'.repeat(Math.floor(over / 2))}`;
    premise(
      Buffer.byteLength(overLimit) === MAX_ENVELOPE_BYTES + 1,
      'the long message is 262145 bytes',
    );
    premise(
      overLimit.length < MAX_ENVELOPE_BYTES,
      'the long message has fewer characters than the limit',
    );
    return [
      {
        name: 'size-exactly-256-kib',
        rule: null,
        description:
          'A valid envelope padded with JSON whitespace before its closing brace to exactly 262144 bytes (256 KiB): at the limit is not over it, so it is accepted.',
        message: Buffer.from(atLimit, 'utf8'),
        intent: accepted,
      },
      {
        name: 'oversized-one-byte-over',
        rule: 0,
        description:
          'A valid envelope followed by two-byte UTF-8 characters (é), 262145 bytes in all but fewer than 262144 characters: the limit counts bytes, and is checked before parsing (the text after the object would otherwise make it malformed).',
        message: Buffer.from(overLimit, 'utf8'),
        intent: rejected('oversized'),
      },
    ];
  };

  const envelopeCases = (): CaseSpec[] => {
    const valid = signed(payload(1));
    const fields = envelope();
    return [
      {
        name: 'malformed-not-json',
        rule: 1,
        description: 'The message is not JSON at all.',
        message: Buffer.from('hello, worker', 'utf8'),
        intent: rejected('malformed'),
      },
      {
        name: 'malformed-empty-message',
        rule: 1,
        description: 'An empty message (zero bytes), as a cleared retained topic would deliver.',
        message: Buffer.alloc(0),
        intent: rejected('malformed'),
      },
      {
        name: 'malformed-not-utf8',
        rule: 1,
        description: 'The message bytes are not UTF-8 (0xff 0xfe inside braces).',
        message: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]),
        intent: rejected('malformed'),
      },
      {
        name: 'malformed-json-array',
        rule: 1,
        description: 'Valid JSON, but an array rather than an object.',
        message: jsonBytes([fields]),
        intent: rejected('malformed'),
      },
      {
        name: 'malformed-json-null',
        rule: 1,
        description: 'Valid JSON, but null rather than an object.',
        message: Buffer.from('null', 'utf8'),
        intent: rejected('malformed'),
      },
      {
        name: 'malformed-truncated',
        rule: 1,
        description: 'A valid envelope with its last byte (the closing brace) cut off.',
        message: valid.subarray(0, valid.length - 1),
        intent: rejected('malformed'),
      },
      {
        name: 'malformed-missing-sig',
        rule: 1,
        description: 'An envelope without its sig field.',
        message: jsonBytes(withChanges({ ...fields }, { sig: undefined })),
        intent: rejected('malformed'),
      },
      {
        name: 'malformed-kid-not-a-string',
        rule: 1,
        description: 'kid is a number: every envelope field must be a string.',
        message: jsonBytes({ ...fields, kid: 1 }),
        intent: rejected('malformed'),
      },
      {
        name: 'malformed-payload-not-a-string',
        rule: 1,
        description: 'payload is the JSON object itself instead of its base64 text.',
        message: jsonBytes({ ...fields, payload: payload(1) }),
        intent: rejected('malformed'),
      },
      {
        name: 'malformed-alg-null',
        rule: 1,
        description: 'alg is null: a missing algorithm is malformed, not an unsupported one.',
        message: jsonBytes({ ...fields, alg: null }),
        intent: rejected('malformed'),
      },
      {
        name: 'unsupported-alg-hs256',
        rule: 1,
        description: 'A well-formed envelope naming another algorithm (HS256).',
        message: jsonBytes(signedEnvelope(payload(1), signing, { alg: 'HS256' })),
        intent: rejected('unsupported-alg'),
      },
      {
        name: 'unsupported-alg-lowercase',
        rule: 1,
        description: 'alg "ed25519": the comparison is exact, case included.',
        message: jsonBytes(signedEnvelope(payload(1), signing, { alg: 'ed25519' })),
        intent: rejected('unsupported-alg'),
      },
      {
        name: 'unknown-key-untrusted-kid',
        rule: 1,
        description:
          'Correctly signed by the untrusted key under its own kid: a kid outside the trusted set is refused before any signature check.',
        message: signed(payload(1), untrusted),
        intent: rejected('unknown-key'),
      },
      {
        name: 'unknown-key-kid-case',
        rule: 1,
        description: 'The trusted kid in upper case: key ids are compared exactly.',
        message: jsonBytes(signedEnvelope(payload(1), signing, { kid: signing.kid.toUpperCase() })),
        intent: rejected('unknown-key'),
      },
    ];
  };

  const signatureCases = (): CaseSpec[] => {
    const fields = envelope();
    const sig = Buffer.from(fields.sig, 'base64');
    const flipped = Buffer.from(sig);
    flipped[0] ^= 0x01;
    // S + L: the same signature for a verifier that does not check S < L.
    const s = sig.subarray(32).reduceRight((n, byte) => (n << 8n) | BigInt(byte), 0n) + GROUP_ORDER;
    const highS = Buffer.from(sig);
    for (let i = 0, rest = s; i < 32; i++, rest >>= 8n) highS[32 + i] = Number(rest & 0xffn);
    const payloadBytes = Buffer.from(fields.payload, 'base64');
    premise(
      naclVerify(payloadBytes, highS, signing.publicKey),
      'tweetnacl accepts the S + L signature',
    );
    const urlSafe = fields.sig.replace(/\+/g, '-').replace(/\//g, '_');
    premise(urlSafe !== fields.sig, 'the signature has a + or / to spell url-safe');
    premise(fields.sig.endsWith('=='), 'a 64-byte signature ends with ==');
    const last = BASE64_ALPHABET.indexOf(fields.sig.charAt(fields.sig.length - 3));
    const trailingBits = `${fields.sig.slice(0, -3)}${BASE64_ALPHABET.charAt(last | 1)}==`;
    premise(
      Buffer.from(trailingBits, 'base64').equals(sig) && trailingBits !== fields.sig,
      'a lenient decoder reads the non-zero trailing bits as the same signature',
    );
    premise(fields.payload.length > 76, 'the payload is longer than one MIME line');
    const other = Buffer.from(
      JSON.stringify(payload(1, { config: configWith({ batch_size: 499 }) })),
    );
    return [
      {
        name: 'signature-tampered-payload',
        rule: 2,
        description:
          'The payload replaced by another valid payload (batch_size changed) under the original signature.',
        message: jsonBytes({ ...fields, payload: other.toString('base64') }),
        intent: rejected('signature'),
      },
      {
        name: 'signature-tampered-sig',
        rule: 2,
        description: 'One bit of the signature flipped.',
        message: jsonBytes({ ...fields, sig: flipped.toString('base64') }),
        intent: rejected('signature'),
      },
      {
        name: 'signature-untrusted-key-claiming-trusted-kid',
        rule: 2,
        description: 'Signed by the untrusted key, but naming the trusted signing kid.',
        message: jsonBytes(signedEnvelope(payload(1), untrusted, { kid: signing.kid })),
        intent: rejected('signature'),
      },
      {
        name: 'signature-retired-key-under-current-kid',
        rule: 2,
        description:
          'Signed by the (trusted) retired key but naming the current kid: the signature is checked with the key the kid names only.',
        message: jsonBytes(signedEnvelope(payload(1), retiredSigning, { kid: signing.kid })),
        intent: rejected('signature'),
      },
      {
        name: 'signature-63-bytes',
        rule: 2,
        description: 'sig is canonical base64 of 63 bytes (the signature minus its last byte).',
        message: jsonBytes({ ...fields, sig: sig.subarray(0, 63).toString('base64') }),
        intent: rejected('signature'),
      },
      {
        name: 'signature-non-canonical-s',
        rule: 2,
        description:
          "The signature with S replaced by S + L (the group order). tweetnacl's verify accepts it; Node's Ed25519 (and libsodium) reject it, and so must a worker.",
        message: jsonBytes({ ...fields, sig: highS.toString('base64') }),
        intent: rejected('signature'),
      },
      {
        name: 'base64-payload-line-break',
        rule: 1,
        description:
          'The payload base64 with a line break after 76 characters (MIME style): not canonical standard base64, so the envelope is malformed (rule 1: canonical base64 is part of parsing, checked before alg and kid).',
        message: jsonBytes({
          ...fields,
          payload: `${fields.payload.slice(0, 76)}\n${fields.payload.slice(76)}`,
        }),
        intent: rejected('malformed'),
      },
      {
        name: 'base64-payload-leading-space',
        rule: 1,
        description: 'The payload base64 with one leading space.',
        message: jsonBytes({ ...fields, payload: ` ${fields.payload}` }),
        intent: rejected('malformed'),
      },
      {
        name: 'base64-payload-empty',
        rule: 1,
        description: 'payload is the empty string.',
        message: jsonBytes({ ...fields, payload: '' }),
        intent: rejected('malformed'),
      },
      {
        name: 'base64-payload-extra-padding',
        rule: 1,
        description: 'The payload base64 with one "=" too many.',
        message: jsonBytes({ ...fields, payload: `${fields.payload}=` }),
        intent: rejected('malformed'),
      },
      {
        name: 'base64-sig-without-padding',
        rule: 1,
        description: 'The signature base64 without its "==" padding.',
        message: jsonBytes({ ...fields, sig: fields.sig.replace(/=+$/, '') }),
        intent: rejected('malformed'),
      },
      {
        name: 'base64-sig-url-safe',
        rule: 1,
        description: 'The signature in the url-safe alphabet ("-" and "_" for "+" and "/").',
        message: jsonBytes({ ...fields, sig: urlSafe }),
        intent: rejected('malformed'),
      },
      {
        name: 'base64-sig-non-zero-trailing-bits',
        rule: 1,
        description:
          'The last character before "==" changed so the unused low bits are not zero: lenient decoders give the same 64 bytes, but only one spelling is canonical.',
        message: jsonBytes({ ...fields, sig: trailingBits }),
        intent: rejected('malformed'),
      },
      {
        name: 'malformed-payload-not-utf8',
        rule: 2,
        description: 'Correctly signed payload bytes that are not UTF-8.',
        message: signed(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d])),
        intent: rejected('malformed'),
      },
      {
        name: 'malformed-payload-not-json',
        rule: 2,
        description: 'Correctly signed payload bytes that are text, not JSON.',
        message: signed(Buffer.from('version 1 of vector-worker', 'utf8')),
        intent: rejected('malformed'),
      },
      {
        name: 'malformed-payload-json-array',
        rule: 2,
        description: 'A correctly signed payload that is a JSON array, not an object.',
        message: signed(Buffer.from('[1,2]', 'utf8')),
        intent: rejected('malformed'),
      },
    ];
  };

  const serviceCases = (): CaseSpec[] => [
    {
      name: 'service-payload-for-other-service',
      rule: 3,
      description: 'A payload for other-worker on vector-worker’s topic.',
      message: signed(payload(1, { service: 'other-worker' })),
      intent: rejected('service'),
    },
    {
      name: 'service-topic-of-other-service',
      rule: 3,
      description: 'A payload for vector-worker delivered on other-worker’s topic.',
      topic: configTopic('other-worker'),
      message: signed(payload(1)),
      intent: rejected('service'),
    },
    {
      name: 'service-other-service-on-its-own-topic',
      rule: 3,
      description:
        'Payload and topic agree on other-worker, but this worker is vector-worker (payload service = topic service = own service).',
      topic: configTopic('other-worker'),
      message: signed(payload(1, { service: 'other-worker' })),
      intent: rejected('service'),
    },
    {
      name: 'service-missing',
      rule: 3,
      description: 'A payload without a service field.',
      message: signed(payload(1, { service: undefined })),
      intent: rejected('service'),
    },
    {
      name: 'service-on-the-schema-topic',
      rule: 3,
      description:
        'A config envelope arriving on system/schema/vector-worker: that topic names no config service.',
      topic: schemaTopic(VECTOR_WORKER),
      message: signed(payload(1)),
      intent: rejected('service'),
    },
    {
      name: 'service-checked-before-version',
      rule: 3,
      description:
        'Another service’s payload with a stale version: rule 3 comes first, and the verified version is reported.',
      appliedVersion: 5,
      message: signed(payload(3, { service: 'other-worker' })),
      intent: rejected('service'),
    },
  ];

  const versionCases = (): CaseSpec[] => {
    const text = JSON.stringify(payload(7));
    const asFloat = text.replace('"version":7,', '"version":7.0,');
    premise(asFloat !== text, 'the payload text spells version 7 as 7.0');
    const malformed = (name: string, version: unknown, what: string): CaseSpec => ({
      name,
      rule: 4,
      description: `version is ${what}: a version must be a positive integer no larger than 2^53 - 1.`,
      message: signed(payload(1, { version })),
      intent: rejected('malformed'),
    });
    const invalidConfig = configWith({ batch_size: 0 });
    return [
      malformed('version-zero', 0, '0'),
      malformed('version-negative', -3, '-3'),
      malformed('version-fraction', 1.5, '1.5'),
      malformed('version-string', '3', 'the string "3"'),
      malformed('version-too-large', 2 ** 53, '2^53, beyond the safe integers'),
      malformed('version-huge', 1e300, '1e300'),
      {
        name: 'version-missing',
        rule: 4,
        description: 'A payload without a version field.',
        message: signed(payload(1, { version: undefined })),
        intent: rejected('malformed'),
      },
      {
        name: 'version-max-safe-integer',
        rule: null,
        description: 'version 9007199254740991 (2^53 - 1), the largest accepted.',
        message: signed(payload(Number.MAX_SAFE_INTEGER)),
        intent: accepted,
      },
      {
        name: 'version-written-as-7.0',
        rule: null,
        description:
          'The signed payload text spells the version "7.0": JSON does not tell integers from floats, the number 7 is an integer.',
        message: signed(Buffer.from(asFloat, 'utf8')),
        intent: accepted,
      },
      {
        name: 'stale-lower-version',
        rule: 4,
        description: 'Version 4 when 5 is applied: a replay or out-of-order delivery.',
        appliedVersion: 5,
        message: signed(payload(4)),
        intent: rejected('stale'),
      },
      {
        name: 'duplicate-equal-version',
        rule: 4,
        description:
          'Version 5 when 5 is applied: the retained copy again, ignored silently and not counted.',
        appliedVersion: 5,
        message: signed(payload(5)),
        intent: { verdict: 'duplicate' },
      },
      {
        name: 'duplicate-before-schema',
        rule: 4,
        description:
          'Version 5 (applied) with a config that breaks the schema: rule 4 comes first, still a duplicate.',
        appliedVersion: 5,
        message: signed(payload(5, { config: invalidConfig })),
        intent: { verdict: 'duplicate' },
      },
      {
        name: 'stale-before-schema',
        rule: 4,
        description: 'An older version with a config that breaks the schema: stale, not schema.',
        appliedVersion: 5,
        message: signed(payload(2, { config: invalidConfig })),
        intent: rejected('stale'),
      },
      {
        name: 'accepted-newer-than-applied',
        rule: null,
        description: 'Version 6 when 5 is applied.',
        appliedVersion: 5,
        message: signed(payload(6)),
        intent: accepted,
      },
    ];
  };

  // Rule 4a: expiresAt, for a worker with nothing applied (ISSUED_AT + 7 days, as the manager's default TTL).
  const expiryCases = (): CaseSpec[] => {
    const at = (ms: number) => new Date(Date.parse(EXPIRES_AT) + ms).toISOString();
    const MINUTE = 60_000;
    const expiring = (version: number, changes: Record<string, unknown> = {}) =>
      signed(payload(version, { expiresAt: EXPIRES_AT, ...changes }));
    return [
      {
        name: 'expired-fresh-worker',
        rule: 4,
        description:
          'A worker with nothing applied (no last-known-good file, nothing accepted) at `now`, 8 days after expiresAt: an old retained message replayed to a new instance, refused as expired, with its version.',
        now: at(8 * 24 * 60 * MINUTE),
        message: expiring(3),
        intent: rejected('expired'),
      },
      {
        name: 'expired-just-over-skew',
        rule: 4,
        description:
          'expiresAt 5 minutes and 1 millisecond before `now`: more than the 5-minute clock skew allowance, expired.',
        now: at(5 * MINUTE + 1),
        message: expiring(3),
        intent: rejected('expired'),
      },
      {
        name: 'expiry-exactly-at-skew',
        rule: null,
        description:
          'expiresAt exactly 5 minutes before `now`: not more than the skew allowance, accepted.',
        now: at(5 * MINUTE),
        message: expiring(3),
        intent: accepted,
      },
      {
        name: 'expiry-within-skew',
        rule: null,
        description:
          'expiresAt 4 minutes before `now`: within the 5-minute clock skew allowance, accepted.',
        now: at(4 * MINUTE),
        message: expiring(3),
        intent: accepted,
      },
      {
        name: 'expiry-not-yet',
        rule: null,
        description: 'expiresAt a day after `now`: accepted.',
        now: at(-24 * 60 * MINUTE),
        message: expiring(3),
        intent: accepted,
      },
      {
        name: 'expired-worker-with-applied-version',
        rule: null,
        description:
          'A worker on version 5 gets version 6, expired 8 days before `now`: a newer version is better than what it has, accepted whatever its expiresAt.',
        appliedVersion: 5,
        now: at(8 * 24 * 60 * MINUTE),
        message: expiring(6),
        intent: accepted,
      },
      {
        name: 'expired-duplicate',
        rule: 4,
        description:
          'A worker on version 5 gets version 5 again, expired: rule 4 comes first, a duplicate.',
        appliedVersion: 5,
        now: at(8 * 24 * 60 * MINUTE),
        message: expiring(5),
        intent: { verdict: 'duplicate' },
      },
      {
        name: 'expired-before-schema',
        rule: 4,
        description:
          'An expired version whose config breaks the schema, for a fresh worker: rule 4a before rule 5, expired.',
        now: at(8 * 24 * 60 * MINUTE),
        message: expiring(3, { config: configWith({ batch_size: 0 }) }),
        intent: rejected('expired'),
      },
      {
        name: 'expires-at-absent-never-expires',
        rule: null,
        description:
          'No expiresAt (a manager from before it), for a fresh worker years later: never expires.',
        now: '2031-01-01T00:00:00.000Z',
        message: signed(payload(3)),
        intent: accepted,
      },
      {
        name: 'expires-at-malformed-number',
        rule: 4,
        description:
          'expiresAt is a number (milliseconds), not an RFC 3339 date-time: malformed, with the version, whatever the applied version.',
        appliedVersion: 5,
        message: signed(payload(6, { expiresAt: Date.parse(EXPIRES_AT) })),
        intent: rejected('malformed'),
      },
      {
        name: 'expires-at-malformed-date-only',
        rule: 4,
        description:
          'expiresAt is a date without a time (2026-11-28): malformed, with the version.',
        message: signed(payload(3, { expiresAt: '2026-11-28' })),
        intent: rejected('malformed'),
      },
    ];
  };

  const archivedCases = (): CaseSpec[] => {
    const tombstone = (version: number, changes: Record<string, unknown> = {}) =>
      signed(
        withChanges(
          { service: VECTOR_WORKER, version, archived: true, issuedAt: ISSUED_AT },
          changes,
        ),
      );
    return [
      {
        name: 'archived-tombstone',
        rule: null,
        description:
          'The signed tombstone of an archived service (archived: true, version = its last version): the worker keeps what it has.',
        appliedVersion: 5,
        message: tombstone(9),
        intent: { verdict: 'archived' },
      },
      {
        name: 'archived-tombstone-at-applied-version',
        rule: null,
        description:
          'A tombstone naming the applied version: not subject to rule 4, it is still archived, not a duplicate.',
        appliedVersion: 5,
        message: tombstone(5),
        intent: { verdict: 'archived' },
      },
      {
        name: 'archived-tombstone-of-other-service',
        rule: 3,
        description: 'A tombstone for other-worker on vector-worker’s topic.',
        message: tombstone(9, { service: 'other-worker' }),
        intent: rejected('service'),
      },
      {
        name: 'archived-not-true',
        rule: 5,
        description:
          'archived is the string "true", not the boolean: not a tombstone, so it is a version without a config.',
        message: tombstone(9, { archived: 'true' }),
        intent: rejected('schema'),
      },
    ];
  };

  const schemaCases = (): CaseSpec[] => {
    const invalid = (name: string, description: string, config: unknown): CaseSpec => ({
      name,
      rule: 5,
      description,
      message: signed(payload(1, { config })),
      intent: rejected('schema'),
    });
    return [
      invalid(
        'schema-wrong-type',
        'batch_size is the string "50", not an integer.',
        configWith({ batch_size: '50' }),
      ),
      invalid('schema-not-an-integer', 'batch_size is 50.5.', configWith({ batch_size: 50.5 })),
      invalid(
        'schema-out-of-range',
        'batch_size is 0; the minimum is 1.',
        configWith({ batch_size: 0 }),
      ),
      invalid(
        'schema-not-in-enum',
        'mode is "turbo", not one of fast, safe.',
        configWith({ mode: 'turbo' }),
      ),
      invalid(
        'schema-too-long',
        'label has 17 characters; the maximum is 16.',
        configWith({ label: 'a'.repeat(17) }),
      ),
      invalid(
        'schema-x-sum-off',
        'weights sum to 1.1 (0.6 + 0.5), outside 1 ± 0.001.',
        configWith({ weights: { title: 0.6, body: 0.5 } }),
      ),
      invalid(
        'schema-x-not-greater-than',
        'limits.soft (300) is greater than limits.hard (200).',
        configWith({ limits: { soft: 300, hard: 200 } }),
      ),
      invalid(
        'schema-unknown-property',
        'An extra top-level property (the schema has additionalProperties: false).',
        configWith({ extra: 1 }),
      ),
      invalid(
        'schema-unknown-nested-property',
        'An extra property in api (additionalProperties: false).',
        configWith({ api: { url: 'https://api.example', timeout: 5 } }),
      ),
      invalid(
        'schema-nested-wrong-type',
        'weights is a string, not an object.',
        configWith({ weights: 'even' }),
      ),
      invalid(
        'schema-array-item',
        'tags holds an empty string (minLength 1).',
        configWith({ tags: ['ok', ''] }),
      ),
      invalid(
        'schema-secret-in-plain-config',
        'The secret api.key in payload.config in clear: secrets travel only sealed, in payload.secrets.',
        configWith({ api: { url: 'https://api.example', key: 'sk-in-clear' } }),
      ),
      invalid('schema-config-not-an-object', 'config is an array.', []),
      invalid(
        'schema-forbidden-key',
        'config has an own key "__proto__" (JSON text can carry one): refused, it would reach the prototype when merged.',
        JSON.parse('{"__proto__": {"batch_size": 1}}'),
      ),
      {
        name: 'schema-config-missing',
        rule: 5,
        description: 'A payload without a config field.',
        message: signed(payload(1, { config: undefined })),
        intent: rejected('schema'),
      },
    ];
  };

  const secretCases = (): CaseSpec[] => {
    const tampered = seal('tampered', 'sk-live-tampered');
    const box = Buffer.from(tampered.box, 'base64');
    box[box.length - 1] ^= 0x01;
    const shortNonce = seal('short-nonce', 'sk-live-short-nonce');
    return [
      {
        name: 'secret-sealed-to-other-recipient',
        rule: 6,
        description: 'api.key sealed to another service’s X25519 key.',
        message: withSecret(1, seal('other-recipient', 'sk-live-other', otherRecipient.publicKey)),
        intent: rejected('secret'),
      },
      {
        name: 'secret-tampered-box',
        rule: 6,
        description: 'api.key with the last byte of its box flipped.',
        message: withSecret(1, { ...tampered, box: box.toString('base64') }),
        intent: rejected('secret'),
      },
      {
        name: 'secret-at-unknown-path',
        rule: 6,
        description:
          'A well-sealed secret at api.token, a path the schema does not have: rejected (reason secret), not ignored.',
        message: signed(
          payload(1, { secrets: { 'api.token': seal('unknown-path', 'sk-live-token') } }),
        ),
        intent: rejected('secret'),
      },
      {
        name: 'secret-at-non-secret-path',
        rule: 6,
        description:
          'A well-sealed secret at api.url, a property of the schema that is not a secret (not writeOnly): rejected.',
        message: signed(
          payload(1, { secrets: { 'api.url': seal('non-secret-path', 'https://x') } }),
        ),
        intent: rejected('secret'),
      },
      {
        name: 'secret-nonce-23-bytes',
        rule: 6,
        description: 'api.key whose nonce decodes to 23 bytes instead of 24.',
        message: withSecret(1, {
          ...shortNonce,
          nonce: Buffer.from(shortNonce.nonce, 'base64').subarray(0, 23).toString('base64'),
        }),
        intent: rejected('secret'),
      },
      {
        name: 'secret-wrong-alg',
        rule: 6,
        description: 'api.key naming the alg "x25519-aes-gcm".',
        message: withSecret(1, { ...seal('wrong-alg', 'sk-live-alg'), alg: 'x25519-aes-gcm' }),
        intent: rejected('secret'),
      },
      {
        name: 'secret-sealed-not-an-object',
        rule: 6,
        description: 'api.key is a plain string instead of a sealed secret.',
        message: withSecret(1, 'sk-live-plain'),
        intent: rejected('secret'),
      },
      {
        name: 'secret-not-utf8',
        rule: 6,
        description: 'api.key opens, but its bytes (0xff 0xfe) are not UTF-8 text.',
        message: withSecret(1, seal('not-utf8', Buffer.from([0xff, 0xfe]))),
        intent: rejected('secret'),
      },
      {
        name: 'secret-invalid-value',
        rule: 6,
        description: 'api.key opens to 65 characters; its schema allows at most 64.',
        message: withSecret(1, seal('too-long', 'k'.repeat(65))),
        intent: rejected('secret'),
      },
      {
        name: 'secret-secrets-not-an-object',
        rule: 6,
        description: 'payload.secrets is an array.',
        message: signed(payload(1, { secrets: [] })),
        intent: rejected('secret'),
      },
    ];
  };

  const acceptedCases = (): CaseSpec[] => {
    const fields = envelope();
    const pretty = `{\n  "sig" : "${fields.sig}",\n\t"payload": "${fields.payload}",\r\n  "kid": "${fields.kid}",\n  "alg": "${fields.alg}"\n}\n`;
    const escaped = jsonBytes(fields)
      .toString('utf8')
      .replace('"alg":"Ed25519"', '"alg":"Ed\\u0032\\u0035519"')
      .replace(`"kid":"${fields.kid}"`, `"kid":"${fields.kid.replace('-', '\\u002d')}"`);
    premise(
      escaped.includes('\\u0032') && escaped.includes('\\u002d'),
      'the envelope spells alg and kid with escapes',
    );
    return [
      {
        name: 'accepted-full-config',
        rule: null,
        description: 'Every non-secret value given, none of them the default; no secret set.',
        message: signed(payload(1)),
        intent: accepted,
      },
      {
        name: 'accepted-defaults-filled',
        rule: null,
        description: 'config is {}: every property takes its default, nested objects included.',
        message: signed(payload(1, { config: {} })),
        intent: accepted,
      },
      {
        name: 'accepted-partial-nested',
        rule: null,
        description:
          'Only some values given, some of them inside nested objects: the rest are defaults.',
        message: signed(payload(1, { config: { mode: 'fast', limits: { hard: 150 }, api: {} } })),
        intent: accepted,
      },
      {
        name: 'accepted-with-secret',
        rule: null,
        description:
          'api.key sealed to the recipient, with non-ASCII text: it is opened and placed at its dotted path, config.api.key.',
        message: withSecret(1, seal('with-secret', 'clé-🔑-ключ-0123')),
        intent: accepted,
      },
      {
        name: 'accepted-with-empty-secret',
        rule: null,
        description: 'api.key sealed as the empty string (a box of 16 bytes, just the tag).',
        message: withSecret(1, seal('empty-secret', '')),
        intent: accepted,
      },
      {
        name: 'accepted-no-secrets-field',
        rule: null,
        description: 'A payload without a secrets field: api.key takes its default "" (not set).',
        message: signed(payload(1, { secrets: undefined })),
        intent: accepted,
      },
      {
        name: 'accepted-retired-key',
        rule: null,
        description: 'Signed by the retired (still trusted) key under its own kid.',
        message: signed(payload(1), retiredSigning),
        intent: accepted,
      },
      {
        name: 'accepted-schema-hash-differs',
        rule: null,
        description:
          'payload.schemaHash is not the worker’s: not a rejection by itself (rule 5 decides); the worker reports schemaDrift: true.',
        message: signed(payload(1, { schemaHash: `sha256:${'0'.repeat(64)}` })),
        intent: accepted,
      },
      {
        name: 'accepted-without-issued-at',
        rule: null,
        description: 'A payload without issuedAt (and without schemaHash): neither is a rule.',
        message: signed(payload(1, { issuedAt: undefined, schemaHash: undefined })),
        intent: accepted,
      },
      {
        name: 'accepted-unknown-payload-fields',
        rule: null,
        description: 'The payload has fields the contract does not name: ignored.',
        message: signed(payload(1, { note: 'from a newer manager', priority: 3 })),
        intent: accepted,
      },
      {
        name: 'accepted-unknown-envelope-fields',
        rule: null,
        description: 'The envelope has a field besides alg, kid, payload and sig: ignored.',
        message: jsonBytes({ ...fields, comment: 'unsigned, ignored' }),
        intent: accepted,
      },
      {
        name: 'accepted-pretty-printed-envelope',
        rule: null,
        description:
          'The envelope with spaces, tabs, CR LF, a trailing newline and its fields in another order: any JSON object is read as JSON.',
        message: Buffer.from(pretty, 'utf8'),
        intent: accepted,
      },
      {
        name: 'accepted-escaped-envelope-strings',
        rule: null,
        description:
          'alg and kid spelled with JSON \\u escapes ("Ed\\u0032\\u0035519"): compared after JSON decoding.',
        message: Buffer.from(escaped, 'utf8'),
        intent: accepted,
      },
      {
        name: 'malformed-utf8-bom',
        rule: 1,
        description:
          'The envelope preceded by a UTF-8 byte order mark (EF BB BF): not a JSON text (RFC 8259 forbids a BOM in JSON on the wire), so malformed, as strict parsers in every language refuse it.',
        message: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), signed(payload(1))]),
        intent: rejected('malformed'),
      },
      {
        name: 'accepted-x-sum-at-upper-tolerance',
        rule: null,
        description: 'weights sum to 1.001 (0.6 + 0.401): inside 1 ± 0.001, inclusive.',
        message: signed(
          payload(1, { config: configWith({ weights: { title: 0.6, body: 0.401 } }) }),
        ),
        intent: accepted,
      },
    ];
  };

  return [
    ...sizeCases(),
    ...envelopeCases(),
    ...signatureCases(),
    ...serviceCases(),
    ...versionCases(),
    ...expiryCases(),
    ...archivedCases(),
    ...schemaCases(),
    ...secretCases(),
    ...acceptedCases(),
  ];
}
