import {
  candidateTopic,
  configTopic,
  parseCandidateTopic,
  parseConfigTopic,
  readDateTime,
  type ServiceDefinition,
} from '@app/contracts';
import { type EnvelopeVerdict, EnvelopeVerifier } from '@app/config-client';
import { premise, withChanges } from './vector-case';
import {
  ISSUED_AT,
  jsonBytes,
  messageOf,
  sealWithLabel,
  signedEnvelope,
  type VectorKeys,
  type VectorMessage,
  trustedKeyMap,
  trustedKeysJson,
} from './vector-keys';
import { definitionFromSchema, VECTOR_WORKER, vectorWorkerSchema } from './vector-worker.schema';

/** The `expect` of one message of a candidate vector (see the README). */
export type CandidateExpect =
  | {
      verdict: 'accepted';
      version: number;
      config: Record<string, unknown>;
      rollout?: { id: string; step: number; stableVersion: number };
    }
  | { verdict: 'duplicate' | 'archived' | 'not-targeted' | 'behind-candidate'; version: number }
  | { verdict: 'no-candidate' }
  | { verdict: 'rejected'; reason: string; version?: number };

/** An attestation case's message: its verdict and the worker's attestedAt after it. */
export type AttestedExpect = CandidateExpect & { attestedAt?: string };

/** One message of a case, in the order a worker receives them. */
export interface CandidateStep {
  topic: string;
  message: VectorMessage;
  expect: AttestedExpect;
}

/** One case of candidate-envelopes.json. */
export interface CandidateEnvelopeVector {
  name: string;
  rule: number | null;
  description: string;
  instanceId: string;
  appliedVersion: number;
  /** Attestation cases: the worker's clock, which caps attestedAt. */
  now?: string;
  messages: CandidateStep[];
}

type Verdict = CandidateExpect['verdict'];

interface StepSpec {
  /** `config` or `candidate` for vector-worker's topics, else the topic itself. */
  readonly topic: string;
  readonly message: Buffer;
  /** The verdict the step is meant to get, and the reason of a rejection. */
  readonly intent: Verdict;
  readonly reason?: string;
}

interface CaseSpec {
  readonly name: string;
  readonly rule: number | null;
  readonly description: string;
  readonly instanceId?: string;
  readonly appliedVersion?: number;
  /** An attestation case: every message's expect carries the worker's attestedAt after it. */
  readonly now?: string;
  readonly steps: readonly StepSpec[];
}

const FILE = 'candidate-envelopes.json';
const INSTANCE = 'w-1';

/** The verdict in the files' words. */
export function candidateExpectOf(verdict: EnvelopeVerdict): CandidateExpect {
  switch (verdict.kind) {
    case 'accepted':
      return verdict.rollout === undefined
        ? { verdict: 'accepted', version: verdict.version, config: verdict.config }
        : {
            verdict: 'accepted',
            version: verdict.version,
            config: verdict.config,
            rollout: { ...verdict.rollout },
          };
    case 'duplicate':
    case 'archived':
    case 'not-targeted':
    case 'behind-candidate':
      return { verdict: verdict.kind, version: verdict.version };
    case 'no-candidate':
      return { verdict: 'no-candidate' };
    case 'rejected':
      return verdict.version === undefined
        ? { verdict: 'rejected', reason: verdict.reason }
        : { verdict: 'rejected', reason: verdict.reason, version: verdict.version };
    case 'pending':
      throw new Error('test vectors: a verifier with its own schema never answers pending');
  }
}

/**
 * candidate-envelopes.json: rollouts' candidates on system/candidate/vector-worker, and the stable
 * topic around them, each case a sequence of messages one instance receives with the verdict
 * the SDK's EnvelopeVerifier gives each, the worker's state carried from one to the next as the
 * README says (applied version, and the candidate's stable version while it runs a candidate).
 */
export function candidateEnvelopeVectors(keys: VectorKeys): Record<string, unknown> {
  const definition = definitionFromSchema(VECTOR_WORKER, vectorWorkerSchema());
  const verifier = new EnvelopeVerifier({
    definition,
    trustedKeys: trustedKeyMap(keys),
    secretKey: keys.recipient.secretKey,
  });
  const cases = candidateCases(keys, definition).map((spec): CandidateEnvelopeVector => {
    const instanceId = spec.instanceId ?? INSTANCE;
    const appliedVersion = spec.appliedVersion ?? 0;
    let applied = appliedVersion;
    let candidateStableVersion: number | undefined;
    // Attestations (docs/recovery.md): when the applied version was last attested, and whether it came from the candidate topic.
    let attestedAt: number | undefined;
    let fromCandidate = false;
    const now = spec.now === undefined ? undefined : Date.parse(spec.now);
    const messages = spec.steps.map((step, index): CandidateStep => {
      const topic =
        step.topic === 'config'
          ? configTopic(VECTOR_WORKER)
          : step.topic === 'candidate'
            ? candidateTopic(VECTOR_WORKER)
            : step.topic;
      const onCandidateTopic = parseCandidateTopic(topic) !== undefined;
      const context = { appliedVersion: applied, candidateStableVersion, instanceId };
      const verdict = onCandidateTopic
        ? verifier.verifyCandidate(step.message, {
            ...context,
            topicService: parseCandidateTopic(topic)?.service,
          })
        : verifier.verify(step.message, {
            ...context,
            topicService: parseConfigTopic(topic)?.service,
          });
      const expect = candidateExpectOf(verdict);
      const reason = 'reason' in expect ? expect.reason : undefined;
      if (expect.verdict !== step.intent || reason !== step.reason) {
        throw new Error(
          `test vectors: ${FILE} case ${spec.name} message ${index + 1} is meant to be ` +
            `${step.intent}${step.reason ? ` (${step.reason})` : ''}, but the code says ` +
            `${expect.verdict}${reason ? ` (${reason})` : ''}` +
            ('detail' in verdict ? `: ${verdict.detail}` : ''),
        );
      }
      if (verdict.kind === 'accepted') {
        applied = verdict.version;
        candidateStableVersion = verdict.rollout?.stableVersion;
        fromCandidate = onCandidateTopic;
        const issued = readDateTime(verdict.payload.issuedAt);
        attestedAt = issued === undefined || now === undefined ? now : Math.min(issued, now);
      }
      if (verdict.kind === 'duplicate' && onCandidateTopic === fromCandidate && now !== undefined) {
        const issued = readDateTime(verdict.issuedAt);
        if (
          issued !== undefined &&
          (attestedAt === undefined || Math.min(issued, now) > attestedAt)
        ) {
          attestedAt = Math.min(issued, now);
        }
      }
      const attested =
        spec.now === undefined || attestedAt === undefined
          ? expect
          : { ...expect, attestedAt: new Date(attestedAt).toISOString() };
      return { topic, message: messageOf(step.message), expect: attested };
    });
    return {
      name: spec.name,
      rule: spec.rule,
      description: spec.description,
      instanceId,
      appliedVersion,
      ...(spec.now === undefined ? {} : { now: spec.now }),
      messages,
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

function candidateCases(keys: VectorKeys, definition: ServiceDefinition): CaseSpec[] {
  const { signing, untrusted, recipient } = keys;
  const config = (): Record<string, unknown> => ({
    batch_size: 120,
    mode: 'fast',
    label: 'canary',
    weights: { title: 0.7, body: 0.3 },
    limits: { soft: 50, hard: 80 },
    tags: ['alpha'],
    api: { url: 'https://api.example/v3' },
  });
  const base = (version: number) => ({
    service: VECTOR_WORKER,
    version,
    issuedAt: ISSUED_AT,
    schemaHash: definition.schemaHash,
    config: config(),
    secrets: {},
  });
  const rollout = (changes: Record<string, unknown> = {}) =>
    withChanges(
      { id: 'r-vector-1', step: 1, stableVersion: 5, instances: ['w-1', 'w-3'] },
      changes,
    );
  /** A candidate payload: a config payload plus its rollout. */
  const candidate = (
    version: number,
    changes: Record<string, unknown> = {},
    target: Record<string, unknown> = {},
  ) => withChanges({ ...base(version), rollout: rollout(target) }, changes);
  const signed = (body: object | Buffer, signer = signing) =>
    jsonBytes(signedEnvelope(body, signer));
  const stable = (version: number) => signed(base(version));
  const step = (
    topic: StepSpec['topic'],
    message: Buffer,
    intent: Verdict,
    reason?: string,
  ): StepSpec =>
    reason === undefined ? { topic, message, intent } : { topic, message, intent, reason };

  const targeting: CaseSpec[] = [
    {
      name: 'candidate-targeted-accepted',
      rule: null,
      description:
        'Candidate version 6 of a rollout from stable version 5, naming w-1 and w-3; this worker is w-1 on version 5: accepted (staged like any version), with its rollout.',
      appliedVersion: 5,
      steps: [step('candidate', signed(candidate(6)), 'accepted')],
    },
    {
      name: 'candidate-not-targeted',
      rule: 3,
      description:
        'The same candidate seen by w-2, which its cohort does not name: not-targeted, ignored (not a rejection, not counted, no change of status).',
      instanceId: 'w-2',
      appliedVersion: 5,
      steps: [step('candidate', signed(candidate(6)), 'not-targeted')],
    },
    {
      name: 'candidate-instance-id-exact',
      rule: 3,
      description: 'The cohort names w-1; this worker is W-1: instance ids are compared exactly.',
      instanceId: 'W-1',
      appliedVersion: 5,
      steps: [step('candidate', signed(candidate(6)), 'not-targeted')],
    },
    {
      name: 'candidate-empty-cohort',
      rule: 3,
      description: 'rollout.instances is empty: nobody is targeted.',
      appliedVersion: 5,
      steps: [step('candidate', signed(candidate(6, {}, { instances: [] })), 'not-targeted')],
    },
    {
      name: 'candidate-not-targeted-before-schema',
      rule: 3,
      description:
        'A candidate whose config breaks the schema, for an instance it does not name: targeting comes before rules 4-6, so not-targeted (the targeted ones reject it).',
      instanceId: 'w-2',
      appliedVersion: 5,
      steps: [
        step(
          'candidate',
          signed(candidate(6, { config: { ...config(), batch_size: 0 } })),
          'not-targeted',
        ),
      ],
    },
    {
      name: 'candidate-targeted-schema-invalid',
      rule: 5,
      description:
        'The same broken candidate for w-1, which it names: rejected (schema), with its version (the manager rolls back on it).',
      appliedVersion: 5,
      steps: [
        step(
          'candidate',
          signed(candidate(6, { config: { ...config(), batch_size: 0 } })),
          'rejected',
          'schema',
        ),
      ],
    },
    {
      name: 'candidate-with-secret',
      rule: null,
      description:
        'A targeted candidate carrying api.key sealed to the recipient: opened as for configs.',
      appliedVersion: 5,
      steps: [
        step(
          'candidate',
          signed(
            candidate(6, {
              secrets: {
                'api.key': sealWithLabel(
                  'candidate-envelopes secret',
                  'sk-canary-7',
                  recipient.publicKey,
                ),
              },
            }),
          ),
          'accepted',
        ),
      ],
    },
  ];

  const shape: CaseSpec[] = [
    {
      name: 'candidate-rollout-missing',
      rule: 3,
      description:
        'A plain config payload (no rollout) on the candidate topic: malformed, with its version (the signature verified).',
      appliedVersion: 5,
      steps: [step('candidate', signed(base(6)), 'rejected', 'malformed')],
    },
    ...(
      [
        ['candidate-rollout-not-an-object', 'rollout is an array.', ['w-1']],
        ['candidate-rollout-id-empty', 'rollout.id is the empty string.', rollout({ id: '' })],
        ['candidate-rollout-step-zero', 'rollout.step is 0.', rollout({ step: 0 })],
        [
          'candidate-rollout-instances-not-strings',
          'rollout.instances holds a number.',
          rollout({ instances: ['w-1', 3] }),
        ],
        [
          'candidate-rollout-instances-missing',
          'rollout has no instances.',
          rollout({ instances: undefined }),
        ],
        [
          'candidate-rollout-stable-not-below',
          'rollout.stableVersion (6) is not below the candidate version (6).',
          rollout({ stableVersion: 6 }),
        ],
      ] as const
    ).map(([name, what, value]): CaseSpec => ({
      name,
      rule: 3,
      description: `${what} A rollout that is not { id, step, stableVersion < version, instances: [string] } is malformed for every instance, targeted or not.`,
      instanceId: 'w-2',
      appliedVersion: 5,
      steps: [step('candidate', signed(candidate(6, { rollout: value })), 'rejected', 'malformed')],
    })),
    {
      name: 'candidate-empty-message',
      rule: null,
      description:
        'An empty message (zero bytes) on the candidate topic: the manager cleared it, there is no candidate. Ignored, not a rejection (on the config topic it is malformed).',
      appliedVersion: 5,
      steps: [step('candidate', Buffer.alloc(0), 'no-candidate')],
    },
    {
      name: 'candidate-bad-signature',
      rule: 2,
      description:
        'A candidate signed by the untrusted key under the trusted kid: rules 0-2 apply as for configs (no version: nothing verified).',
      appliedVersion: 5,
      steps: [
        step(
          'candidate',
          jsonBytes(signedEnvelope(candidate(6), untrusted, { kid: signing.kid })),
          'rejected',
          'signature',
        ),
      ],
    },
    {
      name: 'candidate-for-other-service',
      rule: 3,
      description: 'A candidate for other-worker on vector-worker’s candidate topic: service.',
      appliedVersion: 5,
      steps: [
        step('candidate', signed(candidate(6, { service: 'other-worker' })), 'rejected', 'service'),
      ],
    },
    {
      name: 'candidate-on-other-service-topic',
      rule: 3,
      description: 'A candidate for vector-worker on other-worker’s candidate topic: service.',
      appliedVersion: 5,
      steps: [step(candidateTopic('other-worker'), signed(candidate(6)), 'rejected', 'service')],
    },
    {
      name: 'candidate-on-config-topic',
      rule: 3,
      description:
        'A genuine candidate replayed on the stable topic, where every instance would take it (the broker would choose who runs it): rejected (service), with its version.',
      appliedVersion: 5,
      steps: [step('config', signed(candidate(6)), 'rejected', 'service')],
    },
    {
      name: 'candidate-version-malformed',
      rule: 4,
      description: 'A candidate whose version is 0: malformed, without a version.',
      appliedVersion: 5,
      steps: [
        step('candidate', signed(candidate(0, {}, { stableVersion: 1 })), 'rejected', 'malformed'),
      ],
    },
    {
      name: 'candidate-tombstone',
      rule: null,
      description:
        'A signed tombstone on the candidate topic (not expected): as on the config topic, archived.',
      appliedVersion: 5,
      steps: [
        step(
          'candidate',
          signed({ service: VECTOR_WORKER, version: 9, archived: true, issuedAt: ISSUED_AT }),
          'archived',
        ),
      ],
    },
  ];

  const sequences: CaseSpec[] = [
    {
      name: 'candidate-stale',
      rule: 4,
      description:
        'A targeted candidate (version 6, from stable version 4) when version 7 is applied: stale, as any older version.',
      appliedVersion: 7,
      steps: [
        step('candidate', signed(candidate(6, {}, { stableVersion: 4 })), 'rejected', 'stale'),
      ],
    },
    {
      name: 'candidate-next-step-duplicate',
      rule: 4,
      description:
        'The candidate applied, then the same version again for step 2 with a larger cohort: a duplicate.',
      appliedVersion: 5,
      steps: [
        step('candidate', signed(candidate(6)), 'accepted'),
        step(
          'candidate',
          signed(candidate(6, {}, { step: 2, instances: ['w-1', 'w-3', 'w-2'] })),
          'duplicate',
        ),
      ],
    },
    {
      name: 'stable-behind-candidate',
      rule: 4,
      description:
        'On version 5, the candidate 6 (from stable version 5) is applied; then the stable topic’s retained version 5 arrives (a reconnect): behind-candidate, ignored silently (not stale, not counted). Any other older version stays stale.',
      appliedVersion: 5,
      steps: [
        step('candidate', signed(candidate(6)), 'accepted'),
        step('config', stable(5), 'behind-candidate'),
        step('config', stable(4), 'rejected', 'stale'),
      ],
    },
    {
      name: 'stable-behind-candidate-from-start',
      rule: 4,
      description:
        'Nothing applied; the candidate 6 (from stable version 5) comes first, then the stable version 5: behind-candidate.',
      steps: [
        step('candidate', signed(candidate(6)), 'accepted'),
        step('config', stable(5), 'behind-candidate'),
      ],
    },
    {
      name: 'stable-completes-candidate',
      rule: 4,
      description:
        'The candidate 6 applied, then the rollout completes: version 6 on the stable topic is a duplicate.',
      appliedVersion: 5,
      steps: [
        step('candidate', signed(candidate(6)), 'accepted'),
        step('config', stable(6), 'duplicate'),
      ],
    },
    {
      name: 'stable-rollback-after-candidate',
      rule: 4,
      description:
        'The candidate 6 applied, then a rollback: version 7 (the stable content) on the stable topic is accepted; the instance no longer runs a candidate, so the retained version 5 is stale again.',
      appliedVersion: 5,
      steps: [
        step('candidate', signed(candidate(6)), 'accepted'),
        step('config', stable(7), 'accepted'),
        step('config', stable(5), 'rejected', 'stale'),
      ],
    },
    {
      name: 'stable-not-behind-without-candidate',
      rule: 4,
      description:
        'An instance the candidate does not name (w-2, on version 6 from the stable topic) gets version 5: stale, there is no candidate it runs.',
      instanceId: 'w-2',
      appliedVersion: 5,
      steps: [
        step('candidate', signed(candidate(6)), 'not-targeted'),
        step('config', stable(6), 'accepted'),
        step('config', stable(5), 'rejected', 'stale'),
      ],
    },
  ];

  // Heartbeats: the manager re-signs the version a worker runs with a later issuedAt.
  const later = (seconds: number) => new Date(Date.parse(ISSUED_AT) + seconds * 1000).toISOString();
  const NOW = later(3600);
  const stableAt = (version: number, issuedAt: string) => signed({ ...base(version), issuedAt });
  const candidateAt = (version: number, issuedAt: string) =>
    signed(withChanges(candidate(version), { issuedAt }));
  const attestations: CaseSpec[] = [
    {
      name: 'attestation-heartbeat-same-version',
      rule: 4,
      description:
        'Version 6 accepted, then the manager’s heartbeat re-signs it 60 s later: a duplicate (not a rejection, not counted, nothing re-applied) that attests the version: attestedAt becomes its issuedAt. An older re-signed copy (30 s) attests nothing; a copy issued after the worker’s clock (`now`) attests only up to `now`.',
      appliedVersion: 5,
      now: NOW,
      steps: [
        step('config', stableAt(6, ISSUED_AT), 'accepted'),
        step('config', stableAt(6, later(60)), 'duplicate'),
        step('config', stableAt(6, later(30)), 'duplicate'),
        step('config', stableAt(6, later(7200)), 'duplicate'),
      ],
    },
    {
      name: 'attestation-candidate-topic',
      rule: 4,
      description:
        'An instance running the candidate 6 is attested by the candidate topic’s re-signed copies (the topic its version came from).',
      appliedVersion: 5,
      now: NOW,
      steps: [
        step('candidate', candidateAt(6, ISSUED_AT), 'accepted'),
        step('candidate', candidateAt(6, later(60)), 'duplicate'),
      ],
    },
    {
      name: 'attestation-not-from-other-topic',
      rule: 4,
      description:
        'An instance running version 6 from the config topic gets a candidate 6 (from stable version 5) issued later: a duplicate, but not an attestation (the version did not come from that topic); attestedAt stays.',
      appliedVersion: 5,
      now: NOW,
      steps: [
        step('config', stableAt(6, ISSUED_AT), 'accepted'),
        step('candidate', candidateAt(6, later(60)), 'duplicate'),
      ],
    },
  ];

  return [...targeting, ...shape, ...sequences, ...attestations];
}
