import fc from 'fast-check';
import { defaultConfig, type JsonSchema, MAX_SECRET_LENGTH, schemaHashOf } from '@app/contracts';
import { generateBoxKeyPair, generateSigningKeyPair } from '@app/crypto';
import { BILLING_SYNC, billingSyncSchema, definitionOfSchema } from '../test/support/billing-sync';
import {
  buildCandidateEnvelope,
  buildEnvelope,
  buildSchemaEnvelope,
  buildTombstone,
  configWithModel,
  createTestKeys,
  dedupWorkerDefinition,
  type EnvelopeSpec,
  signPayload,
  type TestKeys,
  trustedKeysOf,
} from '../test/support/envelope-factory';
import { ConfigClientError, ConfigClientErrorCode } from './config-client.error';
import {
  DEFAULT_MAX_ENVELOPE_BYTES,
  type EnvelopeVerdict,
  EnvelopeVerifier,
  type EnvelopeVerifierOptions,
} from './envelope-verifier';
import { REJECTION_REASONS, type RejectionReason } from '@app/contracts';
import type { SchemaVerdict, SignedSchema } from './signed-schemas';

const SERVICE = 'dedup-worker';
const SECRET = 'sk-live-0123456789-do-not-log';

function createSut(
  keys: TestKeys,
  overrides: Partial<EnvelopeVerifierOptions> = {},
): EnvelopeVerifier {
  return new EnvelopeVerifier({
    definition: dedupWorkerDefinition(),
    trustedKeys: trustedKeysOf(keys),
    secretKey: keys.box.secretKey,
    ...overrides,
  });
}

function verifyAt(
  sut: EnvelopeVerifier,
  bytes: Buffer,
  appliedVersion = 0,
  topicService: string | undefined = SERVICE,
): EnvelopeVerdict {
  return sut.verify(bytes, { topicService, appliedVersion });
}

function expectRejected(verdict: EnvelopeVerdict, reason: RejectionReason): string {
  if (verdict.kind !== 'rejected') {
    throw new Error(`expected a ${reason} rejection, got ${verdict.kind}`);
  }
  expect(verdict.reason).toBe(reason);
  return verdict.detail;
}

function payloadBytes(payload: unknown): Buffer {
  return Buffer.from(JSON.stringify(payload), 'utf8');
}

function validPayload(version: number): Record<string, unknown> {
  return {
    service: SERVICE,
    version,
    issuedAt: new Date().toISOString(),
    schemaHash: dedupWorkerDefinition().schemaHash,
    config: defaultConfig(dedupWorkerDefinition()),
    secrets: {},
  };
}

describe(EnvelopeVerifier.name, () => {
  const keys = createTestKeys();
  const sut = createSut(keys);

  describe('rule 4a: expiry', () => {
    const NOW = Date.parse('2026-12-06T12:00:00.000Z');
    const minutesAgo = (minutes: number) => new Date(NOW - minutes * 60_000).toISOString();
    const judge = (spec: Partial<EnvelopeSpec>, appliedVersion = 0) =>
      sut.verify(buildEnvelope(keys, { version: 5, ...spec }), {
        topicService: SERVICE,
        appliedVersion,
        now: NOW,
      });

    it('refuses, for a worker with nothing applied, a payload expired more than 5 minutes ago, with its version', () => {
      const verdict = judge({ issuedAt: minutesAgo(60 * 24 * 8), expiresAt: minutesAgo(60 * 24) });

      expect(verdict).toMatchObject({ kind: 'rejected', reason: 'expired', version: 5 });
    });

    it.each([
      ['within the 5-minute skew allowance', minutesAgo(4.99)],
      ['exactly 5 minutes ago', minutesAgo(5)],
      ['in the future', minutesAgo(-60)],
    ])('accepts a payload that expired %s', (_case, expiresAt) => {
      expect(judge({ expiresAt }).kind).toBe('accepted');
    });

    it('accepts a payload without expiresAt (managers before it never expire)', () => {
      expect(judge({ issuedAt: minutesAgo(60 * 24 * 365) }).kind).toBe('accepted');
    });

    it('accepts an expired newer version for a worker that already runs one: newer is better', () => {
      expect(judge({ expiresAt: minutesAgo(60 * 24) }, 4).kind).toBe('accepted');
    });

    it('ignores expiry in a saved envelope: the last-known-good file is for outages', () => {
      const verdict = sut.verifySaved(
        buildEnvelope(keys, { version: 5, expiresAt: minutesAgo(60 * 24 * 30) }),
        { topicService: SERVICE, appliedVersion: 0, instanceId: 'w-1', now: NOW },
      );

      expect(verdict.kind).toBe('accepted');
    });

    it('judges a candidate for a fresh instance by the same rule', () => {
      const verdict = sut.verifyCandidate(
        buildCandidateEnvelope(keys, {
          version: 5,
          expiresAt: minutesAgo(60),
          rollout: { instances: ['w-1'] },
        }),
        { topicService: SERVICE, appliedVersion: 0, instanceId: 'w-1', now: NOW },
      );

      expect(verdict).toMatchObject({ kind: 'rejected', reason: 'expired', version: 5 });
    });

    it.each([
      ['a number', 1_765_000_000_000],
      ['a date without a time', '2026-12-06'],
      ['text', 'tomorrow'],
      ['null', null],
    ])('calls an expiresAt that is %s malformed, with the version', (_case, expiresAt) => {
      expect(judge({ expiresAt }, 4)).toMatchObject({
        kind: 'rejected',
        reason: 'malformed',
        version: 5,
      });
    });

    it('reports the issuedAt of a duplicate, so the client can take it as an attestation', () => {
      const issuedAt = minutesAgo(1);

      expect(judge({ issuedAt, expiresAt: minutesAgo(60 * 24) }, 5)).toEqual({
        kind: 'duplicate',
        version: 5,
        issuedAt,
      });
    });
  });

  describe('a recipient key rotation (previousSecretKeys)', () => {
    const oldBox = generateBoxKeyPair();
    const sealedToOld = buildEnvelope(keys, {
      version: 2,
      secrets: { 'ai.api_key': SECRET },
      recipient: oldBox.publicKey,
    });

    it('opens a secret sealed to a previous key', () => {
      const rotated = createSut(keys, {
        previousSecretKeys: [generateBoxKeyPair().secretKey, oldBox.secretKey],
      });

      expect(verifyAt(rotated, sealedToOld)).toMatchObject({
        kind: 'accepted',
        config: { ai: { api_key: SECRET } },
      });
    });

    it('refuses it without the previous key', () => {
      expectRejected(verifyAt(sut, sealedToOld), 'secret');
    });

    it('refuses a previous key of the wrong length, naming the option', () => {
      expect(() => createSut(keys, { previousSecretKeys: [Buffer.alloc(31)] })).toThrow(
        /previousSecretKeys\[0\]/,
      );
    });
  });

  describe('accepting', () => {
    it('accepts a manager-built envelope: version, validated config, opened secret', () => {
      const verdict = verifyAt(
        sut,
        buildEnvelope(keys, {
          version: 7,
          config: configWithModel('model-7'),
          secrets: { 'ai.api_key': SECRET },
        }),
        3,
      );

      if (verdict.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(verdict)}`);
      expect(verdict.version).toBe(7);
      expect(verdict.schemaDrift).toBe(false);
      expect(verdict.payload).toMatchObject({ service: SERVICE, version: 7 });
      expect(verdict.payload.secretPaths).toEqual(['ai.api_key']);
      expect(verdict.config).toMatchObject({ ai: { model: 'model-7', api_key: SECRET } });
    });

    it('gives a secret path that the payload does not carry its default (empty)', () => {
      const verdict = verifyAt(sut, buildEnvelope(keys, { version: 1 }));

      if (verdict.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(verdict)}`);
      expect(verdict.config).toMatchObject({ ai: { api_key: '' } });
    });

    it('accepts a payload without a secrets field at all', () => {
      const payload = validPayload(2);
      delete payload.secrets;

      expect(verifyAt(sut, signPayload(payloadBytes(payload), keys)).kind).toBe('accepted');
    });

    it('reports schemaDrift when the schemaHash differs, without rejecting', () => {
      const verdict = verifyAt(
        sut,
        buildEnvelope(keys, { version: 1, schemaHash: `sha256:${'0'.repeat(64)}` }),
      );

      expect(verdict).toMatchObject({ kind: 'accepted', schemaDrift: true });
    });

    it('trusts every configured key (rotation: old and new at once)', () => {
      const newKeys = createTestKeys('cfg-new');
      const both = createSut(keys, {
        trustedKeys: new Map([...trustedKeysOf(keys), ...trustedKeysOf(newKeys)]),
      });

      expect(verifyAt(both, buildEnvelope(keys, { version: 1 })).kind).toBe('accepted');
      expect(
        verifyAt(both, buildEnvelope({ ...newKeys, box: keys.box }, { version: 2 })).kind,
      ).toBe('accepted');
    });
  });

  describe('rule 0: size', () => {
    it('refuses an envelope over maxEnvelopeBytes before parsing it, even a valid one', () => {
      const valid = buildEnvelope(keys, { version: 1 });
      const padded = Buffer.concat([valid, Buffer.alloc(DEFAULT_MAX_ENVELOPE_BYTES, 0x20)]);
      const small = createSut(keys, { maxEnvelopeBytes: valid.length - 1 });

      expectRejected(verifyAt(sut, padded), 'oversized');
      expectRejected(verifyAt(small, valid), 'oversized');
      expect(
        createSut(keys, { maxEnvelopeBytes: valid.length }).verify(valid, {
          topicService: SERVICE,
          appliedVersion: 0,
        }).kind,
      ).toBe('accepted');
    });
  });

  describe('rule 1: envelope, alg, kid', () => {
    it.each([
      ['not JSON', Buffer.from('hello')],
      ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d])],
      ['a JSON array', Buffer.from('[]')],
      ['a field of the wrong type', Buffer.from('{"alg":"Ed25519","kid":1,"payload":"","sig":""}')],
      ['a missing field', Buffer.from('{"alg":"Ed25519","kid":"cfg-test","payload":""}')],
    ])('rejects %s as malformed', (_case, bytes) => {
      expectRejected(verifyAt(sut, bytes), 'malformed');
    });

    it('rejects a truncated envelope as malformed', () => {
      const valid = buildEnvelope(keys, { version: 1 });

      expectRejected(verifyAt(sut, valid.subarray(0, valid.length - 1)), 'malformed');
    });

    it('rejects another algorithm', () => {
      expectRejected(
        verifyAt(sut, buildEnvelope(keys, { version: 1, alg: 'HS256' })),
        'unsupported-alg',
      );
    });

    it('rejects a key id it does not trust, even with a good signature', () => {
      const detail = expectRejected(
        verifyAt(sut, buildEnvelope(keys, { version: 1, kid: 'rogue' })),
        'unknown-key',
      );
      expect(detail).toContain('"rogue"');
    });
  });

  describe('rule 2: signature', () => {
    it('rejects a signature by another key under a trusted kid', () => {
      const forged = buildEnvelope(keys, {
        version: 1,
        signingSecretKey: generateSigningKeyPair().secretKey,
      });

      expectRejected(verifyAt(sut, forged), 'signature');
    });

    it('rejects a payload changed after signing', () => {
      const envelope = JSON.parse(buildEnvelope(keys, { version: 1 }).toString()) as Record<
        string,
        string
      >;
      const changed = payloadBytes({ ...validPayload(99) });
      const tampered = { ...envelope, payload: changed.toString('base64') };

      expectRejected(verifyAt(sut, payloadBytes(tampered)), 'signature');
    });

    it('rejects non-canonical base64 in payload or sig as malformed (rule 1)', () => {
      const envelope = JSON.parse(buildEnvelope(keys, { version: 1 }).toString()) as Record<
        string,
        string
      >;

      expectRejected(
        verifyAt(sut, payloadBytes({ ...envelope, payload: ` ${envelope.payload}` })),
        'malformed',
      );
      expectRejected(
        verifyAt(sut, payloadBytes({ ...envelope, sig: envelope.sig.replace(/=+$/, '') })),
        'malformed',
      );
    });
  });

  describe('rule 3: service', () => {
    it('rejects a signed payload for another service', () => {
      const detail = expectRejected(
        verifyAt(sut, buildEnvelope(keys, { version: 1, service: 'other-worker' })),
        'service',
      );
      expect(detail).toContain('other-worker');
    });

    it('rejects a payload for this service arriving on another service topic', () => {
      expectRejected(
        verifyAt(sut, buildEnvelope(keys, { version: 1 }), 0, 'other-worker'),
        'service',
      );
      expectRejected(
        sut.verify(buildEnvelope(keys, { version: 1 }), {
          topicService: undefined,
          appliedVersion: 0,
        }),
        'service',
      );
    });

    it('checks the service before the version', () => {
      expectRejected(
        verifyAt(sut, buildEnvelope(keys, { version: 1, service: 'other-worker' }), 5),
        'service',
      );
    });

    it('rejects a signed payload that is not a JSON object as malformed', () => {
      expectRejected(verifyAt(sut, signPayload(Buffer.from('[1,2]'), keys)), 'malformed');
      expectRejected(verifyAt(sut, signPayload(Buffer.from('{"a":'), keys)), 'malformed');
    });
  });

  describe('rule 4: version', () => {
    it.each([0, -1, 1.5, '3', null, Number.MAX_SAFE_INTEGER + 1])(
      'rejects version %p as malformed',
      (version) => {
        expectRejected(
          verifyAt(sut, signPayload(payloadBytes({ ...validPayload(1), version }), keys)),
          'malformed',
        );
      },
    );

    it('calls the applied version again a duplicate, not a rejection', () => {
      expect(verifyAt(sut, buildEnvelope(keys, { version: 4 }), 4)).toEqual({
        kind: 'duplicate',
        version: 4,
        issuedAt: expect.stringMatching(/^\d{4}-/),
      });
    });

    it('rejects an older version as stale, with its version', () => {
      const verdict = verifyAt(sut, buildEnvelope(keys, { version: 3 }), 4);

      expect(verdict).toMatchObject({ kind: 'rejected', reason: 'stale', version: 3 });
    });

    it('checks the version before the schema: an invalid duplicate is still a duplicate', () => {
      const invalid = buildEnvelope(keys, { version: 4, config: { scoring: { date: 5 } } });

      expect(verifyAt(sut, invalid, 4).kind).toBe('duplicate');
    });
  });

  describe('rule 5: schema', () => {
    it('rejects a config that breaks the schema, naming the problem', () => {
      const config = defaultConfig(dedupWorkerDefinition());
      const detail = expectRejected(
        verifyAt(sut, buildEnvelope(keys, { version: 1, config: { ...config, unknown_x: 1 } })),
        'schema',
      );
      expect(detail).toContain('unknown_x');
    });

    it('rejects scoring weights that do not sum to 1', () => {
      const config = defaultConfig(dedupWorkerDefinition());
      const scoring = { ...(config.scoring as Record<string, unknown>), date: 0.9 };
      const detail = expectRejected(
        verifyAt(sut, buildEnvelope(keys, { version: 1, config: { ...config, scoring } })),
        'schema',
      );
      expect(detail).toMatch(/sum/);
    });

    it('rejects a secret smuggled into the plain config, without echoing it', () => {
      const config = defaultConfig(dedupWorkerDefinition());
      const ai = { ...(config.ai as Record<string, unknown>), api_key: SECRET };
      const detail = expectRejected(
        verifyAt(sut, buildEnvelope(keys, { version: 1, config: { ...config, ai } })),
        'schema',
      );
      expect(detail).toContain('ai.api_key');
      expect(detail).not.toContain(SECRET);
    });
  });

  describe('rule 6: secrets', () => {
    it('rejects a secret sealed to another key, without echoing anything of it', () => {
      const detail = expectRejected(
        verifyAt(
          sut,
          buildEnvelope(keys, {
            version: 1,
            secrets: { 'ai.api_key': SECRET },
            recipient: generateBoxKeyPair().publicKey,
          }),
        ),
        'secret',
      );
      expect(detail).toContain('ai.api_key');
      expect(detail).not.toContain(SECRET);
    });

    it('rejects any secret when the client has no secret key', () => {
      const withoutKey = createSut(keys, { secretKey: undefined });

      expectRejected(
        verifyAt(
          withoutKey,
          buildEnvelope(keys, { version: 1, secrets: { 'ai.api_key': SECRET } }),
        ),
        'secret',
      );
      expect(verifyAt(withoutKey, buildEnvelope(keys, { version: 1 })).kind).toBe('accepted');
    });

    it('rejects a secret at a path the schema does not mark secret', () => {
      expectRejected(
        verifyAt(sut, buildEnvelope(keys, { version: 1, secrets: { 'ai.model': 'x' } })),
        'secret',
      );
    });

    it.each([
      ['an array', []],
      ['a string', 'x'],
      ['null', null],
    ])('rejects secrets that are %s', (_case, secrets) => {
      expectRejected(
        verifyAt(sut, signPayload(payloadBytes({ ...validPayload(1), secrets }), keys)),
        'secret',
      );
    });

    it('rejects a malformed sealed secret', () => {
      const secrets = { 'ai.api_key': { alg: 'x25519-xsalsa20-poly1305', epk: 'AA==' } };

      expectRejected(
        verifyAt(sut, signPayload(payloadBytes({ ...validPayload(1), secrets }), keys)),
        'secret',
      );
    });

    it('rejects an opened secret that fails the schema (too long), without echoing it', () => {
      const long = 'k'.repeat(MAX_SECRET_LENGTH + 1);
      const detail = expectRejected(
        verifyAt(sut, buildEnvelope(keys, { version: 1, secrets: { 'ai.api_key': long } })),
        'secret',
      );
      expect(detail).not.toContain(long.slice(0, 32));
    });
  });

  describe('tombstones', () => {
    it('calls a signed tombstone for this service archived: not a version, whatever the applied one', () => {
      for (const applied of [0, 4, 5, 9]) {
        expect(
          verifyAt(sut, buildTombstone(keys, { service: SERVICE, version: 5 }), applied),
        ).toEqual({ kind: 'archived', version: 5, issuedAt: expect.any(String) });
      }
    });

    it('rejects a tombstone that does not verify, or is for another service, as any message', () => {
      const forged = buildTombstone(keys, {
        service: SERVICE,
        version: 5,
        signingSecretKey: generateSigningKeyPair().secretKey,
      });

      expectRejected(verifyAt(sut, forged), 'signature');
      expectRejected(
        verifyAt(sut, buildTombstone(keys, { service: 'other-worker', version: 5 })),
        'service',
      );
      expectRejected(
        verifyAt(sut, buildTombstone(keys, { service: SERVICE, version: 5 }), 0, 'other-worker'),
        'service',
      );
    });
  });

  describe('candidates (rollouts)', () => {
    const candidate = (version: number, instances: string[], spec: Partial<EnvelopeSpec> = {}) =>
      buildCandidateEnvelope(keys, {
        version,
        config: configWithModel(`canary-${version}`),
        rollout: { id: 'r-7', step: 2, stableVersion: version - 1, instances },
        ...spec,
      });
    const onCandidateTopic = (bytes: Buffer, instanceId = 'w-1', appliedVersion = 4) =>
      sut.verifyCandidate(bytes, { topicService: SERVICE, appliedVersion, instanceId });

    it('accepts a candidate naming this instance, like any version, and says which rollout it is', () => {
      const verdict = onCandidateTopic(
        candidate(5, ['w-3', 'w-1'], { secrets: { 'ai.api_key': SECRET } }),
      );

      expect(verdict).toMatchObject({
        kind: 'accepted',
        version: 5,
        rollout: { id: 'r-7', step: 2, stableVersion: 4 },
        config: { ai: { model: 'canary-5', api_key: SECRET } },
      });
      expect(verdict).not.toHaveProperty('rollout.instances');
    });

    it('leaves a candidate to the instances it names: not-targeted before rules 4-6', () => {
      const broken = candidate(5, ['w-1'], { config: { thresholds: { high: 0.2, low: 0.5 } } });

      expect(onCandidateTopic(candidate(5, ['w-1']), 'w-2')).toEqual({
        kind: 'not-targeted',
        version: 5,
        rolloutId: 'r-7',
      });
      expect(onCandidateTopic(broken, 'w-2').kind).toBe('not-targeted');
      expect(onCandidateTopic(candidate(3, ['w-1']), 'w-2').kind).toBe('not-targeted');
      expectRejected(onCandidateTopic(broken, 'w-1'), 'schema');
    });

    it('rejects a candidate without a readable rollout as malformed, for every instance, with its version', () => {
      for (const instanceId of ['w-1', 'w-2']) {
        const plain = onCandidateTopic(buildEnvelope(keys, { version: 5 }), instanceId);
        expect(plain).toMatchObject({ kind: 'rejected', reason: 'malformed', version: 5 });
        expect(expectRejected(plain, 'malformed')).toMatch(/payload\.rollout must be an object/);
        const notBelow = onCandidateTopic(
          buildCandidateEnvelope(keys, {
            version: 5,
            rollout: { stableVersion: 5, instances: [] },
          }),
          instanceId,
        );
        expect(expectRejected(notBelow, 'malformed')).toMatch(/stableVersion must be .* below/);
      }
    });

    it('applies rules 0-3 first, as to any config message', () => {
      const forged = buildCandidateEnvelope(keys, {
        version: 5,
        rollout: { instances: ['w-1'] },
        signingSecretKey: generateSigningKeyPair().secretKey,
      });

      expect(onCandidateTopic(forged)).toEqual({
        kind: 'rejected',
        reason: 'signature',
        detail: expect.any(String),
      });
      expectRejected(
        onCandidateTopic(candidate(5, ['w-1'], { service: 'other-worker' })),
        'service',
      );
      expectRejected(
        sut.verifyCandidate(candidate(5, ['w-1']), {
          topicService: 'other-worker',
          appliedVersion: 0,
          instanceId: 'w-1',
        }),
        'service',
      );
    });

    it('calls an empty message on the candidate topic no-candidate (on the config topic it is malformed)', () => {
      expect(onCandidateTopic(Buffer.alloc(0))).toEqual({ kind: 'no-candidate' });
      expectRejected(verifyAt(sut, Buffer.alloc(0)), 'malformed');
    });

    it('refuses a candidate on the stable topic: there it would reach instances its cohort leaves out', () => {
      const verdict = verifyAt(sut, candidate(5, ['w-1', 'w-2']), 4);

      expect(verdict).toMatchObject({ kind: 'rejected', reason: 'service', version: 5 });
      expect(expectRejected(verdict, 'service')).toMatch(/candidate .* on the config topic/);
    });

    it('ignores the stable version a running candidate replaced (behind-candidate); older ones stay stale', () => {
      const context = { topicService: SERVICE, appliedVersion: 5, candidateStableVersion: 4 };

      expect(sut.verify(buildEnvelope(keys, { version: 4 }), context)).toEqual({
        kind: 'behind-candidate',
        version: 4,
      });
      expectRejected(sut.verify(buildEnvelope(keys, { version: 3 }), context), 'stale');
      expect(sut.verify(buildEnvelope(keys, { version: 5 }), context).kind).toBe('duplicate');
      expectRejected(
        sut.verify(buildEnvelope(keys, { version: 4 }), {
          ...context,
          candidateStableVersion: undefined,
        }),
        'stale',
      );
      // Only on the stable topic: an old candidate is stale whatever the stable version is.
      expectRejected(
        sut.verifyCandidate(candidate(4, ['w-1']), { ...context, instanceId: 'w-1' }),
        'stale',
      );
    });

    it('verifies a saved envelope by its payload: a candidate only for the instances it names', () => {
      const saved = (bytes: Buffer, instanceId: string) =>
        sut.verifySaved(bytes, { topicService: SERVICE, appliedVersion: 0, instanceId });

      expect(saved(candidate(5, ['w-1']), 'w-1')).toMatchObject({
        kind: 'accepted',
        version: 5,
        rollout: { id: 'r-7', stableVersion: 4 },
      });
      expect(saved(candidate(5, ['w-1']), 'w-2').kind).toBe('not-targeted');
      const plain = saved(buildEnvelope(keys, { version: 3 }), 'w-2');
      expect(plain).toMatchObject({ kind: 'accepted', version: 3 });
      expect(plain).not.toHaveProperty('rollout');
    });

    it('calls a tombstone on the candidate topic archived, as on the config topic', () => {
      expect(
        onCandidateTopic(buildTombstone(keys, { service: SERVICE, version: 9 })),
      ).toMatchObject({ kind: 'archived', version: 9 });
    });
  });

  describe('without a schema of its own (signed schemas)', () => {
    const schema = billingSyncSchema();
    const definition = definitionOfSchema(schema);
    const signed = createSut(keys, { definition: undefined, service: BILLING_SYNC });

    function signedSchema(): SignedSchema {
      const verdict = signed.verifySchema(buildSchemaEnvelope(keys, { definition }), {
        topicService: BILLING_SYNC,
      });
      if (verdict.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(verdict)}`);
      return verdict.schema;
    }

    function verifyWith(
      bytes: Buffer,
      known: readonly SignedSchema[],
      appliedVersion = 0,
    ): EnvelopeVerdict {
      return signed.verify(bytes, {
        topicService: BILLING_SYNC,
        appliedVersion,
        signedSchemas: new Map(known.map((entry) => [entry.schemaHash, entry])),
      });
    }

    function expectSchemaRejected(verdict: SchemaVerdict, reason: RejectionReason): string {
      if (verdict.kind !== 'rejected')
        throw new Error(`expected a ${reason} rejection, got accepted`);
      expect(verdict.reason).toBe(reason);
      return verdict.detail;
    }

    const config = { batch: { size: 20, min_size: 5 }, regions: ['eu', 'us'] };

    it('accepts a signed schema: its version, its recomputed hash, its definition and exact bytes', () => {
      const bytes = buildSchemaEnvelope(keys, { definition, schemaVersion: 3 });

      const verdict = signed.verifySchema(bytes, { topicService: BILLING_SYNC });

      if (verdict.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(verdict)}`);
      expect(verdict.schema).toMatchObject({
        service: BILLING_SYNC,
        schemaVersion: 3,
        schemaHash: definition.schemaHash,
        envelopeBytes: bytes,
      });
      expect(verdict.schema.definition.secretPaths).toEqual(['token']);
    });

    it.each<[string, () => Buffer, RejectionReason]>([
      [
        'signed by a key it does not trust',
        () => buildSchemaEnvelope(createTestKeys('rogue'), { definition }),
        'unknown-key',
      ],
      [
        'with a forged signature under a trusted kid',
        () =>
          buildSchemaEnvelope(keys, {
            definition,
            signingSecretKey: generateSigningKeyPair().secretKey,
          }),
        'signature',
      ],
      [
        'whose hash is not its schema',
        () => buildSchemaEnvelope(keys, { definition, schemaHash: `sha256:${'0'.repeat(64)}` }),
        'schema',
      ],
      [
        'carrying another schema than its hash names',
        () =>
          buildSchemaEnvelope(keys, {
            definition,
            schema: billingSyncSchema({ title: 'changed after hashing' }),
          }),
        'schema',
      ],
      [
        'with a schema the registration would refuse',
        () => {
          // Correctly hashed and signed, but `format` is not a supported keyword.
          const schema = {
            ...billingSyncSchema(),
            properties: { x: { type: 'string', format: 'email' } },
          };
          return buildSchemaEnvelope(keys, {
            definition,
            schema,
            schemaHash: schemaHashOf(schema as JsonSchema),
          });
        },
        'schema',
      ],
      [
        'for another service',
        () => buildSchemaEnvelope(keys, { definition, service: 'other-worker' }),
        'service',
      ],
      [
        'without a schemaVersion',
        () => buildSchemaEnvelope(keys, { definition, schemaVersion: 0 }),
        'malformed',
      ],
      ['that is not an envelope', () => Buffer.from('{"schema":{}}'), 'malformed'],
    ])('refuses a schema envelope %s (%s)', (_case, build, reason) => {
      expectSchemaRejected(signed.verifySchema(build(), { topicService: BILLING_SYNC }), reason);
    });

    it('refuses a schema envelope arriving on another service topic', () => {
      const bytes = buildSchemaEnvelope(keys, { definition });

      expectSchemaRejected(signed.verifySchema(bytes, { topicService: 'other-worker' }), 'service');
      expectSchemaRejected(signed.verifySchema(bytes, { topicService: undefined }), 'service');
    });

    it('validates a config with the signed schema its schemaHash names: no drift, secrets at its paths', () => {
      const bytes = buildEnvelope(keys, {
        version: 2,
        definition,
        config,
        secrets: { token: SECRET },
      });

      const verdict = verifyWith(bytes, [signedSchema()]);

      if (verdict.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(verdict)}`);
      expect(verdict.config).toEqual({ ...config, token: SECRET });
      expect(verdict.schemaDrift).toBe(false);
      expect(verdict.signedSchema?.schemaHash).toBe(definition.schemaHash);
    });

    it('rejects a config that breaks the signed schema (schema), naming it', () => {
      const bytes = buildEnvelope(keys, {
        version: 2,
        definition,
        config: { batch: { size: 5, min_size: 6 } },
      });

      const detail = expectRejected(verifyWith(bytes, [signedSchema()]), 'schema');
      expect(detail).toMatch(/signed billing-sync schema version 1: .*batch\.min_size/);
    });

    it('holds a config whose signed schema it does not know (pending), after rules 0-4 only', () => {
      const bytes = buildEnvelope(keys, { version: 2, definition, config });

      expect(verifyWith(bytes, [])).toEqual({
        kind: 'pending',
        version: 2,
        schemaHash: definition.schemaHash,
      });
      expect(verifyWith(bytes, [], 2).kind).toBe('duplicate');
      expectRejected(verifyWith(bytes, [], 3), 'stale');
      expectRejected(
        verifyWith(buildEnvelope(createTestKeys('rogue'), { version: 2, definition }), []),
        'unknown-key',
      );
    });

    it('never validates with a schema whose hash the payload does not name', () => {
      const other = definitionOfSchema(billingSyncSchema({ title: 'another schema' }));
      const known = signed.verifySchema(buildSchemaEnvelope(keys, { definition: other }), {
        topicService: BILLING_SYNC,
      });
      if (known.kind !== 'accepted') throw new Error('not accepted');

      expect(
        verifyWith(buildEnvelope(keys, { version: 2, definition, config }), [known.schema]).kind,
      ).toBe('pending');
    });

    it('rejects a config without a schemaHash (schema): there is no signed schema to use', () => {
      const payload = { service: BILLING_SYNC, version: 2, issuedAt: 'now', config, secrets: {} };

      expectRejected(
        verifyWith(signPayload(payloadBytes(payload), keys), [signedSchema()]),
        'schema',
      );
    });

    it('needs the service when it has no definition', () => {
      expect(() => createSut(keys, { definition: undefined })).toThrow(
        expect.objectContaining({
          code: ConfigClientErrorCode.InvalidOption,
          problems: ['service'],
        }),
      );
    });
  });

  describe('configuration', () => {
    it.each<[string, Partial<EnvelopeVerifierOptions>, string]>([
      ['no trusted key', { trustedKeys: new Map() }, 'trustedKeys'],
      ['a short trusted key', { trustedKeys: new Map([['k', Buffer.alloc(31)]]) }, 'trustedKeys'],
      ['a short secret key', { secretKey: Buffer.alloc(16) }, 'secretKey'],
      ['a zero size limit', { maxEnvelopeBytes: 0 }, 'maxEnvelopeBytes'],
    ])('refuses %s with a ConfigClientError naming the option', (_case, overrides, option) => {
      const build = (): EnvelopeVerifier => createSut(keys, overrides);

      expect(build).toThrow(ConfigClientError);
      try {
        build();
      } catch (error) {
        expect(error).toMatchObject({
          code: ConfigClientErrorCode.InvalidOption,
          problems: [option],
        });
      }
    });
  });

  describe('hostile input (property-based)', () => {
    const valid = buildEnvelope(keys, { version: 5, secrets: { 'ai.api_key': SECRET } });
    const validEnvelope = JSON.parse(valid.toString()) as Record<string, string>;
    const appliedVersion = fc.integer({ min: 0, max: 10 });

    function expectClassifiedRejection(verdict: EnvelopeVerdict): void {
      if (verdict.kind !== 'rejected') {
        throw new Error(`expected a rejection, got ${JSON.stringify(verdict)}`);
      }
      expect(REJECTION_REASONS).toContain(verdict.reason);
      // The catch-all must never be what classified it.
      expect(verdict.detail).not.toMatch(/internal verifier error/);
      expect(verdict.detail).not.toContain(SECRET);
    }

    it('rejects 1,000 arbitrary byte strings without throwing', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 4096 }), appliedVersion, (bytes, applied) => {
          expectClassifiedRejection(verifyAt(sut, Buffer.from(bytes), applied));
        }),
        { numRuns: 1000 },
      );
    });

    const wrongTypes = fc
      .record({
        alg: fc.oneof(fc.constant('Ed25519'), fc.anything()),
        kid: fc.oneof(fc.constant(keys.kid), fc.anything()),
        payload: fc.oneof(fc.constant(validEnvelope.payload), fc.anything()),
        sig: fc.anything(),
      })
      .map((envelope) => payloadBytes(envelope));

    const randomBase64 = fc
      .record({
        payload: fc.uint8Array({ maxLength: 512 }),
        sig: fc.uint8Array({ minLength: 0, maxLength: 80 }),
      })
      .map(({ payload, sig }) =>
        payloadBytes({
          alg: 'Ed25519',
          kid: keys.kid,
          payload: Buffer.from(payload).toString('base64'),
          sig: Buffer.from(sig).toString('base64'),
        }),
      );

    const randomJson = fc.oneof(
      fc.json().map((text) => Buffer.from(text)),
      fc
        .dictionary(fc.string(), fc.jsonValue())
        .map((fields) => payloadBytes({ ...validEnvelope, ...fields, sig: fields.sig ?? 'AA==' })),
    );

    const truncations = fc
      .integer({ min: 0, max: valid.length - 1 })
      .map((length) => valid.subarray(0, length));

    const flips = fc
      .record({
        index: fc.integer({ min: 0, max: valid.length - 1 }),
        mask: fc.integer({ min: 1, max: 255 }),
      })
      .map(({ index, mask }) => {
        const copy = Buffer.from(valid);
        copy[index] ^= mask;
        return copy;
      });

    // Signed by the trusted key, so they get past rules 1-2; exactly one field is wrong each time.
    const isVersion = (value: unknown): boolean =>
      typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
    const isObject = (value: unknown): boolean =>
      typeof value === 'object' && value !== null && !Array.isArray(value);
    const signedButWrong = fc
      .oneof(
        fc
          .anything()
          .filter((service) => service !== SERVICE)
          .map((service) => ({ service })),
        fc
          .anything()
          .filter((version) => !isVersion(version))
          .map((version) => ({ version })),
        fc.integer({ min: 1, max: 10 }).map((version) => ({ version: -version })),
        fc
          .oneof(
            fc.anything().filter((config) => config !== undefined && !isObject(config)),
            fc.dictionary(
              fc.string().map((key) => `x_${key}`),
              fc.jsonValue(),
              { minKeys: 1 },
            ),
          )
          .map((config) => ({ config })),
        fc
          .oneof(
            fc.anything().filter((secrets) => secrets !== undefined && !isObject(secrets)),
            fc.dictionary(fc.constant('ai.api_key'), fc.jsonValue(), { minKeys: 1 }),
            fc.dictionary(
              fc.string().filter((path) => path !== 'ai.api_key'),
              fc.jsonValue(),
              {
                minKeys: 1,
              },
            ),
          )
          .map((secrets) => ({ secrets })),
      )
      .map((wrong) => signPayload(payloadBytes({ ...validPayload(11), ...wrong }), keys));

    it('rejects 1,000+ plausible but wrong envelopes without throwing', () => {
      fc.assert(
        fc.property(
          fc.oneof(wrongTypes, randomBase64, randomJson, truncations, flips, signedButWrong),
          appliedVersion,
          (bytes, applied) => {
            expectClassifiedRejection(verifyAt(sut, bytes, applied));
          },
        ),
        { numRuns: 1500 },
      );
    });

    it('still accepts the untouched envelope those were derived from', () => {
      expect(verifyAt(sut, valid, 4).kind).toBe('accepted');
    });
  });
});
