import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import {
  canonicalJson,
  checkServiceSchema,
  type JsonSchema,
  MAX_ENVELOPE_BYTES,
  parseCandidateTopic,
  parseConfigTopic,
  parseSchemaTopic,
  readDateTime,
  REJECTION_REASONS,
  schemaHashOf,
  type ServiceDefinition,
  SUPPORTED_KEYWORDS,
  validateConfig,
} from '@app/contracts';
import {
  type EnvelopeVerdict,
  EnvelopeVerifier,
  lastKnownGoodMacInput,
  openLastKnownGood,
  type SchemaVerdict,
} from '@app/config-client';
import {
  boxPublicKeyOf,
  CryptoError,
  openSealedSecret,
  sha256Hex,
  signingPublicKeyOf,
} from '@app/crypto';
import { buildVectors, VECTOR_FILES, VECTORS_DIR } from '../../../scripts/test-vectors/vectors';

// The files as any consumer reads them: JSON, then base64 for bytes.
type Message = { utf8: string } | { base64: string };
interface SigningKeyJson {
  kid: string;
  publicKey: string;
  secretKey: string;
}
interface BoxKeyJson {
  publicKey: string;
  secretKey: string;
}
interface KeysFile {
  signing: SigningKeyJson;
  retiredSigning: SigningKeyJson;
  untrusted: SigningKeyJson;
  recipient: BoxKeyJson;
  otherRecipient: BoxKeyJson;
}
interface EnvelopeCase {
  name: string;
  rule: number | null;
  topic: string;
  appliedVersion: number;
  now?: string;
  message: Message;
  expect: Record<string, unknown> & { verdict: string; reason?: string };
}
interface ConfigEnvelopesFile {
  service: string;
  schema: JsonSchema;
  trustedKeys: Record<string, string>;
  recipientSecretKey: string;
  cases: EnvelopeCase[];
}
interface CandidateEnvelopesFile extends Omit<ConfigEnvelopesFile, 'cases'> {
  cases: {
    name: string;
    rule: number | null;
    instanceId: string;
    appliedVersion: number;
    now?: string;
    messages: { topic: string; message: Message; expect: Record<string, unknown> }[];
  }[];
}
interface SchemaEnvelopesFile {
  service: string;
  trustedKeys: Record<string, string>;
  cases: Omit<EnvelopeCase, 'appliedVersion'>[];
}
interface LkgFilesFile {
  service: string;
  cases: {
    name: string;
    instanceId: string;
    hmacKey: string;
    previousHmacKeys: string[];
    file: unknown;
    expect: Record<string, unknown> & { valid: boolean };
  }[];
}
interface SealedSecretsFile {
  cases: { name: string; recipientSecretKey: string; sealed: unknown; expect: unknown }[];
}
interface SchemaValidationFile {
  cases: {
    name: string;
    keyword: string;
    schema: JsonSchema;
    instances: {
      description: string;
      value: unknown;
      valid: boolean;
      paths?: string[];
      config?: unknown;
    }[];
  }[];
}
interface SchemaHashFile {
  cases: { name: string; text?: string; schema: unknown; canonical: string; schemaHash: string }[];
}

// Keywords of SUPPORTED_KEYWORDS that only annotate or structure a schema: nothing to validate.
const WITHOUT_VALIDATION_EFFECT = new Set([
  '$schema',
  '$id',
  '$defs',
  '$comment',
  'title',
  'description',
  'examples',
  'deprecated',
  'readOnly',
  'x-secret',
]);

function readVector<T>(name: string): T {
  return JSON.parse(readFileSync(join(VECTORS_DIR, name), 'utf8')) as T;
}

function bytesOf(message: Message): Buffer {
  return 'utf8' in message
    ? Buffer.from(message.utf8, 'utf8')
    : Buffer.from(message.base64, 'base64');
}

function trustedKeysOf(keys: Record<string, string>): Map<string, Buffer> {
  return new Map(Object.entries(keys).map(([kid, key]) => [kid, Buffer.from(key, 'base64')]));
}

function definitionOf(service: string, schema: JsonSchema): ServiceDefinition {
  const check = checkServiceSchema(service, '', schema);
  if (!check.ok) throw new Error(`schema of ${service} refused: ${JSON.stringify(check.problems)}`);
  return check.definition;
}

// Written here again rather than imported from the generator: the two must agree independently.
function configVerdictInFileWords(verdict: EnvelopeVerdict): Record<string, unknown> {
  switch (verdict.kind) {
    case 'accepted':
      return {
        verdict: 'accepted',
        version: verdict.version,
        config: verdict.config,
        rollout: verdict.rollout,
      };
    case 'rejected':
      return { verdict: 'rejected', reason: verdict.reason, version: verdict.version };
    case 'no-candidate':
      return { verdict: verdict.kind };
    default:
      return { verdict: verdict.kind, version: verdict.version };
  }
}

function schemaVerdictInFileWords(verdict: SchemaVerdict): Record<string, unknown> {
  return verdict.kind === 'accepted'
    ? {
        verdict: 'accepted',
        schemaHash: verdict.schema.schemaHash,
        schemaVersion: verdict.schema.schemaVersion,
      }
    : { verdict: 'rejected', reason: verdict.reason, schemaVersion: verdict.schemaVersion };
}

// toEqual treats an undefined property as absent: `version` only when the code gives one.
describe('cross-language test vectors', () => {
  describe('drift', () => {
    // Built inside the tests: when the code no longer gives a vector its intended verdict, the
    // generator's error fails these, and the consumer tests below still show which vectors moved.
    let generated: Record<string, unknown> | undefined;
    const build = () => (generated ??= buildVectors());

    it('generates exactly the files in libs/contracts/test-vectors', () => {
      const onDisk = readdirSync(VECTORS_DIR).filter((name) => name.endsWith('.json'));

      expect(Object.keys(build())).toEqual([...VECTOR_FILES]);
      expect(onDisk.sort()).toEqual([...VECTOR_FILES].sort());
    });

    it.each(VECTOR_FILES)('%s is what the code generates', (name) => {
      const fresh: unknown = JSON.parse(JSON.stringify(build()[name]));
      const checkedIn: unknown = readVector(name);
      if (!isDeepStrictEqual(checkedIn, fresh)) {
        throw new Error(
          `${name} differs from what the code generates (${differingCases(checkedIn, fresh)}): ` +
            'run npm run vectors, and review the diff (a changed verdict is a protocol change)',
        );
      }
    });
  });

  describe('keys.json', () => {
    const keys = readVector<KeysFile>('keys.json');
    const envelopes = readVector<ConfigEnvelopesFile>('config-envelopes.json');

    it('holds consistent key pairs (tweetnacl format)', () => {
      for (const key of [keys.signing, keys.retiredSigning, keys.untrusted]) {
        const secretKey = Buffer.from(key.secretKey, 'base64');
        expect(secretKey).toHaveLength(64);
        expect(signingPublicKeyOf(secretKey).toString('base64')).toBe(key.publicKey);
      }
      for (const key of [keys.recipient, keys.otherRecipient]) {
        expect(boxPublicKeyOf(Buffer.from(key.secretKey, 'base64')).toString('base64')).toBe(
          key.publicKey,
        );
      }
    });

    it('is what the envelope files trust: signing and retiredSigning, not untrusted', () => {
      expect(envelopes.trustedKeys).toEqual({
        [keys.signing.kid]: keys.signing.publicKey,
        [keys.retiredSigning.kid]: keys.retiredSigning.publicKey,
      });
      expect(readVector<SchemaEnvelopesFile>('schema-envelopes.json').trustedKeys).toEqual(
        envelopes.trustedKeys,
      );
      expect(envelopes.recipientSecretKey).toBe(keys.recipient.secretKey);
    });
  });

  describe('config-envelopes.json', () => {
    const file = readVector<ConfigEnvelopesFile>('config-envelopes.json');
    const sut = new EnvelopeVerifier({
      definition: definitionOf(file.service, file.schema),
      trustedKeys: trustedKeysOf(file.trustedKeys),
      secretKey: Buffer.from(file.recipientSecretKey, 'base64'),
    });

    it.each(file.cases.map((c) => [c.name, c] as const))(
      'EnvelopeVerifier gives %s its expected verdict',
      (_name, vector) => {
        const verdict = sut.verify(bytesOf(vector.message), {
          topicService: parseConfigTopic(vector.topic)?.service,
          appliedVersion: vector.appliedVersion,
          ...(vector.now === undefined ? {} : { now: Date.parse(vector.now) }),
        });

        expect(configVerdictInFileWords(verdict)).toEqual(vector.expect);
      },
    );

    it('covers every rejection reason and every rule 0 to 6', () => {
      const reasons = new Set(file.cases.map((c) => c.expect.reason));
      const rules = new Set(file.cases.map((c) => c.rule));

      expect(REJECTION_REASONS.filter((reason) => !reasons.has(reason))).toEqual([]);
      expect([0, 1, 2, 3, 4, 5, 6].filter((rule) => !rules.has(rule))).toEqual([]);
      expect(new Set(file.cases.map((c) => c.expect.verdict))).toEqual(
        new Set(['accepted', 'duplicate', 'archived', 'rejected']),
      );
    });

    it('pins the size limit: 262144 bytes are accepted, 262145 are oversized', () => {
      const bySize = (size: number) =>
        file.cases.filter((c) => bytesOf(c.message).length === size).map((c) => c.expect);

      expect(bySize(MAX_ENVELOPE_BYTES)).toEqual([
        expect.objectContaining({ verdict: 'accepted' }),
      ]);
      expect(bySize(MAX_ENVELOPE_BYTES + 1)).toEqual([
        { verdict: 'rejected', reason: 'oversized' },
      ]);
    });
  });

  describe('candidate-envelopes.json', () => {
    const file = readVector<CandidateEnvelopesFile>('candidate-envelopes.json');
    const sut = new EnvelopeVerifier({
      definition: definitionOf(file.service, file.schema),
      trustedKeys: trustedKeysOf(file.trustedKeys),
      secretKey: Buffer.from(file.recipientSecretKey, 'base64'),
    });

    it.each(file.cases.map((c) => [c.name, c] as const))(
      'EnvelopeVerifier gives every message of %s its expected verdict, in order',
      (_name, vector) => {
        // The worker's state, carried as the README says: what it applied, and from which candidate.
        let appliedVersion = vector.appliedVersion;
        let candidateStableVersion: number | undefined;
        // Attestation cases (with `now`): a duplicate from the topic the applied version came
        // from, issued later than attestedAt, attests it up to min(issuedAt, now).
        const now = vector.now === undefined ? undefined : Date.parse(vector.now);
        let attestedAt: number | undefined;
        let fromCandidate = false;
        const verdicts = vector.messages.map(({ topic, message }) => {
          const context = { appliedVersion, candidateStableVersion, instanceId: vector.instanceId };
          const candidateService = parseCandidateTopic(topic)?.service;
          const verdict =
            topic.split('/')[1] === 'candidate'
              ? sut.verifyCandidate(bytesOf(message), {
                  ...context,
                  topicService: candidateService,
                })
              : sut.verify(bytesOf(message), {
                  ...context,
                  topicService: parseConfigTopic(topic)?.service,
                });
          const onCandidate = topic.split('/')[1] === 'candidate';
          if (verdict.kind === 'accepted') {
            appliedVersion = verdict.version;
            candidateStableVersion = verdict.rollout?.stableVersion;
            fromCandidate = onCandidate;
            attestedAt = Math.min(readDateTime(verdict.payload.issuedAt) ?? Infinity, now ?? 0);
          }
          const issuedAt =
            verdict.kind === 'duplicate' ? readDateTime(verdict.issuedAt) : undefined;
          if (now !== undefined && issuedAt !== undefined && onCandidate === fromCandidate) {
            attestedAt = Math.max(attestedAt ?? 0, Math.min(issuedAt, now));
          }
          const words = configVerdictInFileWords(verdict);
          return now === undefined || attestedAt === undefined
            ? words
            : { ...words, attestedAt: new Date(attestedAt).toISOString() };
        });

        expect(verdicts).toEqual(vector.messages.map((m) => m.expect));
      },
    );

    it('covers every rollout verdict, and rejections before and after the targeting', () => {
      const expects = file.cases.flatMap((c) => c.messages.map((m) => m.expect));

      expect(new Set(expects.map((e) => e.verdict))).toEqual(
        new Set([
          'accepted',
          'duplicate',
          'archived',
          'rejected',
          'not-targeted',
          'behind-candidate',
          'no-candidate',
        ]),
      );
      expect(new Set(expects.filter((e) => e.verdict === 'rejected').map((e) => e.reason))).toEqual(
        new Set(['malformed', 'signature', 'service', 'stale', 'schema']),
      );
    });
  });

  describe('lkg-files.json', () => {
    const file = readVector<LkgFilesFile>('lkg-files.json');

    it.each(file.cases.map((c) => [c.name, c] as const))(
      'openLastKnownGood reads %s as expected, over the stated HMAC input',
      (_name, vector) => {
        const loaded = openLastKnownGood(vector.file, {
          service: file.service,
          instanceId: vector.instanceId,
          keys: [vector.hmacKey, ...vector.previousHmacKeys].map((k) => Buffer.from(k, 'base64')),
        });

        expect(loaded.kind === 'ok').toBe(vector.expect.valid);
        if (loaded.kind !== 'ok') return;
        expect({
          valid: true,
          format: loaded.format,
          underPreviousKey: loaded.underPreviousKey,
          envelope: loaded.envelopeBytes.toString('base64'),
          schemaEnvelope: loaded.schemaEnvelopeBytes?.toString('base64'),
          macInput: lastKnownGoodMacInput({
            format: loaded.format,
            service: file.service,
            instanceId: vector.instanceId,
            savedAt: loaded.savedAt,
            envelope: loaded.envelopeBytes,
            schemaEnvelope: loaded.schemaEnvelopeBytes,
          }).toString('base64'),
        }).toEqual(vector.expect);
      },
    );

    it('covers formats 1 to 3, another instance, an edited savedAt and a previous key', () => {
      const names = file.cases.map((c) => c.name);

      expect(new Set(file.cases.filter((c) => c.expect.valid).map((c) => c.expect.format))).toEqual(
        new Set([1, 2, 3]),
      );
      expect(names).toEqual(
        expect.arrayContaining([
          'format3-other-instance',
          'format3-saved-at-edited',
          'format3-under-previous-key',
        ]),
      );
    });
  });

  describe('schema-envelopes.json', () => {
    const file = readVector<SchemaEnvelopesFile>('schema-envelopes.json');
    const sut = new EnvelopeVerifier({
      service: file.service,
      trustedKeys: trustedKeysOf(file.trustedKeys),
    });

    it.each(file.cases.map((c) => [c.name, c] as const))(
      'EnvelopeVerifier.verifySchema gives %s its expected verdict',
      (_name, vector) => {
        const verdict = sut.verifySchema(bytesOf(vector.message), {
          topicService: parseSchemaTopic(vector.topic)?.service,
        });

        expect(schemaVerdictInFileWords(verdict)).toEqual(vector.expect);
      },
    );
  });

  describe('sealed-secrets.json', () => {
    const file = readVector<SealedSecretsFile>('sealed-secrets.json');

    it.each(file.cases.map((c) => [c.name, c] as const))(
      'openSealedSecret gives %s its expected result',
      (_name, vector) => {
        const secretKey = Buffer.from(vector.recipientSecretKey, 'base64');
        let result: unknown;
        try {
          result = {
            opens: true,
            value: openSealedSecret(vector.sealed, secretKey).toString('utf8'),
          };
        } catch (error) {
          if (!(error instanceof CryptoError)) throw error;
          result = { opens: false };
        }

        expect(result).toEqual(vector.expect);
      },
    );
  });

  describe('schema-validation.json', () => {
    const file = readVector<SchemaValidationFile>('schema-validation.json');

    it.each(file.cases.map((c) => [c.name, c] as const))(
      'validateConfig gives every instance of %s its expected result',
      (_name, vector) => {
        const definition = definitionOf('vector-worker', vector.schema);
        for (const { value, ...expected } of vector.instances) {
          const result = validateConfig(definition, value);
          const actual = result.ok
            ? { valid: true, config: expected.config === undefined ? undefined : result.config }
            : {
                valid: false,
                paths: [...new Set(result.issues.map((i) => i.path))].sort(),
              };

          expect({ description: expected.description, ...actual }).toEqual(expected);
        }
      },
    );

    it('covers every supported keyword with an effect on validation', () => {
      const covered = new Set(file.cases.map((c) => c.keyword));
      const missing = [...SUPPORTED_KEYWORDS].filter(
        (keyword) => !WITHOUT_VALIDATION_EFFECT.has(keyword) && !covered.has(keyword),
      );

      expect(missing).toEqual([]);
    });
  });

  describe('schema-hash.json', () => {
    const file = readVector<SchemaHashFile>('schema-hash.json');

    it.each(file.cases.map((c) => [c.name, c] as const))(
      'canonicalJson and schemaHashOf give %s its expected text and hash',
      (_name, vector) => {
        const schema = (
          vector.text === undefined ? vector.schema : JSON.parse(vector.text)
        ) as JsonSchema;

        expect(canonicalJson(schema)).toBe(vector.canonical);
        expect(canonicalJson(vector.schema)).toBe(vector.canonical);
        expect(schemaHashOf(schema)).toBe(vector.schemaHash);
        expect(`sha256:${sha256Hex(vector.canonical)}`).toBe(vector.schemaHash);
      },
    );

    it('hashes config-envelopes.json’s schema as its payloads say', () => {
      const envelopes = readVector<ConfigEnvelopesFile>('config-envelopes.json');
      const workerCase = file.cases.find((c) => c.name === 'vector-worker');

      expect(workerCase?.schemaHash).toBe(schemaHashOf(envelopes.schema));
    });
  });
});

/** The names of the cases that differ, or "not a case list" for a file without `cases`. */
function differingCases(checkedIn: unknown, fresh: unknown): string {
  const casesOf = (file: unknown): { name?: unknown }[] | undefined => {
    const cases = (file as { cases?: unknown } | null)?.cases;
    return Array.isArray(cases) ? (cases as { name?: unknown }[]) : undefined;
  };
  const before = casesOf(checkedIn);
  const after = casesOf(fresh);
  if (before === undefined || after === undefined) return 'top level';
  const byName = new Map(before.map((c) => [String(c.name), c]));
  const names = after
    .filter((c) => !isDeepStrictEqual(byName.get(String(c.name)), c))
    .map((c) => String(c.name));
  const gone = [...byName.keys()].filter((name) => !after.some((c) => String(c.name) === name));
  const listed = [...names, ...gone.map((name) => `${name} (removed)`)];
  return listed.length === 0 ? 'top level' : `cases ${listed.join(', ')}`;
}
