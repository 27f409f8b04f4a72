import {
  type ConfigIssue,
  isPlainObject,
  MAX_ENVELOPE_BYTES,
  readDateTime,
  type RejectionReason,
  type ServiceDefinition,
  validateConfig,
} from '@app/contracts';
import { CryptoError, Ed25519Verifier, openSealedSecret } from '@app/crypto';
import { ConfigClientError, ConfigClientErrorCode } from './config-client.error';
import { secretDefaultsOf, setAtPath } from './config-paths';
import { decodeUtf8, echo, isVersion, ownField, readSignedEnvelope } from './envelope-reader';
import {
  checkSchemaPayload,
  type SchemaVerdict,
  type SignedSchema,
  type SignedSchemaLookup,
} from './signed-schemas';

/** Largest envelope a worker reads (the contracts' MAX_ENVELOPE_BYTES, 256 KiB); anything longer is refused before it is parsed. */
export const DEFAULT_MAX_ENVELOPE_BYTES = MAX_ENVELOPE_BYTES;

/**
 * Rule 4a's clock skew allowance: a payload is expired for a worker with nothing applied only
 * when its `expiresAt` is more than this far in the past (5 minutes), so a worker whose clock
 * runs a little ahead of the manager's does not refuse a fresh heartbeat.
 */
export const EXPIRY_SKEW_MS = 5 * 60 * 1000;

/** What an accepted payload said about itself (the opened secrets are only in `config`). */
export interface AcceptedPayload {
  readonly service: string;
  readonly version: number;
  /** As the manager wrote it; undefined when absent or not a string. */
  readonly issuedAt?: string;
  /** As the manager wrote it; undefined when absent or not a string. */
  readonly schemaHash?: string;
  /** The secret paths the payload carried (the others took their defaults). */
  readonly secretPaths: readonly string[];
}

/** A candidate's `rollout` once checked (CandidatePayload.rollout without its instance list). */
export interface CandidateRollout {
  readonly id: string;
  readonly step: number;
  /** The stable version the rollout started from: its stable-topic copy is then behind-candidate. */
  readonly stableVersion: number;
}

/** The verdict on one message; never an exception. */
export type EnvelopeVerdict =
  | {
      readonly kind: 'accepted';
      readonly version: number;
      readonly payload: AcceptedPayload;
      /** Validated, complete, with opened secrets at their paths. */
      readonly config: Record<string, unknown>;
      /** The manager's schema hash differs from ours (reported, not a rejection); never with a signed schema. */
      readonly schemaDrift: boolean;
      /** The signed schema rule 5 used (a verifier without its own definition). */
      readonly signedSchema?: SignedSchema;
      /** Present when the version is a rollout's candidate (verifyCandidate, or a saved candidate). */
      readonly rollout?: CandidateRollout;
    }
  | {
      readonly kind: 'duplicate';
      readonly version: number;
      /**
       * The payload's `issuedAt` when it is a valid date-time: a duplicate from the topic the
       * applied version came from with a later one is an attestation (a heartbeat re-signed it).
       */
      readonly issuedAt?: string;
    }
  /**
   * verify() only: the stable topic's copy of the version a candidate replaced
   * (VerificationContext.candidateStableVersion), below the applied one: not a replay, ignored
   * silently and not counted.
   */
  | { readonly kind: 'behind-candidate'; readonly version: number }
  /** verifyCandidate() only: a valid candidate whose cohort does not name this instance (not a rejection). */
  | { readonly kind: 'not-targeted'; readonly version: number; readonly rolloutId: string }
  /** verifyCandidate() only: an empty message, the manager clearing the candidate topic (no candidate). */
  | { readonly kind: 'no-candidate' }
  /** Rules 0-4 passed, but the signed schema it names has not been verified yet: not a verdict on it. */
  | { readonly kind: 'pending'; readonly version: number; readonly schemaHash: string }
  /** A signed tombstone for this service (ArchivedPayload): `version` is its last version. */
  | { readonly kind: 'archived'; readonly version: number; readonly issuedAt?: string }
  | {
      readonly kind: 'rejected';
      readonly reason: RejectionReason;
      /** Only once the signature verified: an unverified version is attacker-chosen. */
      readonly version?: number;
      /** For logs and events: never contains a secret value or key. */
      readonly detail: string;
    };

/** What the verifier needs; keys are checked once here, so verify() itself never throws. */
export interface EnvelopeVerifierOptions {
  /**
   * The worker's own schema (rule 5). Without it, rule 5 uses the signed schema whose hash the
   * payload names (VerificationContext.signedSchemas), and `service` names the service.
   */
  readonly definition?: ServiceDefinition;
  /** The worker's service; required without `definition`, and equal to its name with one. */
  readonly service?: string;
  /** Trusted Ed25519 public keys (32 bytes) by key id. */
  readonly trustedKeys: ReadonlyMap<string, Buffer>;
  /** The service's X25519 secret key (32 bytes); without it, any payload carrying secrets is rejected. */
  readonly secretKey?: Buffer;
  /**
   * Earlier X25519 secret keys of the service (CONFIG_SECRET_KEYS_PREVIOUS), tried in order when
   * a sealed secret does not open with `secretKey`: the overlap of a recipient key rotation.
   */
  readonly previousSecretKeys?: readonly Buffer[];
  readonly maxEnvelopeBytes?: number;
}

/** Where a message came from and what the worker already has. */
export interface VerificationContext {
  /** The service named by the message's topic (undefined if the topic names none). */
  readonly topicService: string | undefined;
  /** The newest version already accepted (0 when none). */
  readonly appliedVersion: number;
  /** The verified signed schemas by hash (a verifier without its own definition). */
  readonly signedSchemas?: SignedSchemaLookup;
  /**
   * While the applied version came from a candidate: that candidate's `rollout.stableVersion`,
   * whose retained copy on the stable topic is then behind-candidate rather than stale.
   */
  readonly candidateStableVersion?: number;
  /** The worker's clock (ms since the epoch) for rule 4a; default Date.now(). */
  readonly now?: number;
}

/** Where a candidate message came from, what the worker already has, and who it is. */
export interface CandidateVerificationContext extends VerificationContext {
  /** This worker's instance id: a candidate is applied only by the instances its rollout names. */
  readonly instanceId: string;
}

/** Where a schema message came from. */
export interface SchemaVerificationContext {
  /** The service named by the message's topic (undefined if the topic names none). */
  readonly topicService: string | undefined;
}

/** What rules 5 and 6 derive from one schema, computed once per definition. */
interface SchemaRules {
  readonly definition: ServiceDefinition;
  readonly secretDefaults: ReadonlyMap<string, string>;
  readonly secretPaths: ReadonlySet<string>;
}

type Rejected = Extract<EnvelopeVerdict, { kind: 'rejected' }>;

/** Which rules a message gets: the stable topic's, the candidate topic's, or a saved envelope's (by its payload). */
type TopicKind =
  | { readonly kind: 'config' }
  | { readonly kind: 'candidate' | 'saved'; readonly instanceId: string };

/** CandidatePayload.rollout once read. */
interface RolloutTargetReading extends CandidateRollout {
  readonly instances: readonly string[];
}

// Enough to explain a schema failure in a log line; the rest is one request away in the manager.
const MAX_ISSUES_IN_DETAIL = 3;
const SECRET_KEY_BYTES = 32;

/**
 * Applies the design's worker rules, in order, to the raw bytes of a config message, of a
 * rollout's candidate (docs/rollouts.md) and, for a client that validates with the manager's
 * signed schemas, of a schema message. Pure: it neither logs nor remembers; the caller supplies
 * the applied version, the known signed schemas and the candidate it runs, and acts on the verdict.
 *
 * One file (~500 lines) on purpose: rules 0-6 are read top to bottom in the design's order, for
 * config, candidate and schema messages alike, so a reader can check each rule against the contract.
 */
export class EnvelopeVerifier {
  private readonly service: string;
  private readonly own: SchemaRules | undefined;
  private readonly verifiers: ReadonlyMap<string, Ed25519Verifier>;
  private readonly secretKey: Buffer | undefined;
  private readonly previousSecretKeys: readonly Buffer[];
  private readonly maxEnvelopeBytes: number;
  // Signed schemas come and go; their derived rules are computed once per definition.
  private readonly signedRules = new WeakMap<ServiceDefinition, SchemaRules>();

  constructor(options: EnvelopeVerifierOptions) {
    const service = options.service ?? options.definition?.name;
    if (service === undefined) {
      throw invalidOption('service', 'a verifier without its own definition needs the service');
    }
    if (options.definition !== undefined && options.definition.name !== service) {
      throw invalidOption(
        'service',
        `service ${service} is not the service of the definition (${options.definition.name})`,
      );
    }
    this.service = service;
    this.own = options.definition === undefined ? undefined : rulesOf(options.definition);
    const verifiers = new Map<string, Ed25519Verifier>();
    for (const [kid, key] of options.trustedKeys) {
      try {
        verifiers.set(kid, new Ed25519Verifier(key, `trusted key ${kid}`));
      } catch (error) {
        throw invalidOption('trustedKeys', errorMessage(error));
      }
    }
    if (verifiers.size === 0) {
      throw invalidOption('trustedKeys', 'trustedKeys must hold at least one Ed25519 public key');
    }
    this.verifiers = verifiers;
    if (options.secretKey !== undefined && options.secretKey.length !== SECRET_KEY_BYTES) {
      throw invalidOption(
        'secretKey',
        `secretKey must be a ${SECRET_KEY_BYTES}-byte X25519 secret key (got ${options.secretKey.length} bytes)`,
      );
    }
    this.secretKey = options.secretKey;
    const previous = options.previousSecretKeys ?? [];
    const wrong = previous.findIndex((key) => key.length !== SECRET_KEY_BYTES);
    if (wrong >= 0) {
      throw invalidOption(
        'previousSecretKeys',
        `previousSecretKeys[${wrong}] must be a ${SECRET_KEY_BYTES}-byte X25519 secret key (got ${previous[wrong].length} bytes)`,
      );
    }
    if (previous.length > 0 && this.secretKey === undefined) {
      throw invalidOption(
        'previousSecretKeys',
        'previousSecretKeys are the overlap of a rotation: give the current secretKey too',
      );
    }
    this.previousSecretKeys = previous.map((key) => Buffer.from(key));
    const max = options.maxEnvelopeBytes ?? DEFAULT_MAX_ENVELOPE_BYTES;
    if (!Number.isSafeInteger(max) || max <= 0) {
      throw invalidOption('maxEnvelopeBytes', 'maxEnvelopeBytes must be a positive integer');
    }
    this.maxEnvelopeBytes = max;
  }

  /** The verdict on `bytes` from the stable topic (`system/config/<service>`); never throws, whatever the input. */
  verify(bytes: Uint8Array, context: VerificationContext): EnvelopeVerdict {
    return this.guarded(() => this.applyRules(bytes, context, { kind: 'config' }));
  }

  /**
   * The verdict on `bytes` from the candidate topic (`system/candidate/<service>`, rollouts):
   * an empty message is no-candidate; then rules 0-3 and the version as for configs; a
   * `rollout` that is missing or invalid is malformed; an instance the rollout does not name
   * gets not-targeted; then rules 4-6, and an accepted verdict carries the rollout. Never throws.
   */
  verifyCandidate(bytes: Uint8Array, context: CandidateVerificationContext): EnvelopeVerdict {
    if (bytes.length === 0) {
      return { kind: 'no-candidate' };
    }
    return this.guarded(() =>
      this.applyRules(bytes, context, { kind: 'candidate', instanceId: context.instanceId }),
    );
  }

  /**
   * The verdict on an envelope the worker saved (its last-known-good file): a payload naming a
   * rollout is judged as a candidate for `context.instanceId`, any other as a config. Never throws.
   */
  verifySaved(bytes: Uint8Array, context: CandidateVerificationContext): EnvelopeVerdict {
    return this.guarded(() =>
      this.applyRules(bytes, context, { kind: 'saved', instanceId: context.instanceId }),
    );
  }

  private guarded(judge: () => EnvelopeVerdict): EnvelopeVerdict {
    try {
      return judge();
    } catch (error) {
      // Every rule is written not to throw; this keeps a bug from taking the worker down with
      // a hostile message. Only the error's name: its message could quote the input.
      return reject('malformed', `internal verifier error (${errorName(error)}): please report`);
    }
  }

  /**
   * The verdict on a schema message (`system/schema/<service>`): rules 0-2 as for configs, then
   * the service, and a schema whose hash is recomputed and that checkServiceSchema accepts.
   * Never throws.
   */
  verifySchema(bytes: Uint8Array, context: SchemaVerificationContext): SchemaVerdict {
    try {
      const reading = readSignedEnvelope(bytes, this.verifiers, this.maxEnvelopeBytes);
      if (!reading.ok) {
        return { kind: 'rejected', reason: reading.reason, detail: reading.detail };
      }
      return checkSchemaPayload(reading.payload, bytes, {
        service: this.service,
        topicService: context.topicService,
      });
    } catch (error) {
      return {
        kind: 'rejected',
        reason: 'malformed',
        detail: `internal verifier error (${errorName(error)}): please report`,
      };
    }
  }

  private applyRules(
    bytes: Uint8Array,
    context: VerificationContext,
    topic: TopicKind,
  ): EnvelopeVerdict {
    // Rules 0-2: size, envelope, algorithm, trusted key, signature; then the signed payload.
    const reading = readSignedEnvelope(bytes, this.verifiers, this.maxEnvelopeBytes);
    if (!reading.ok) {
      return reject(reading.reason, reading.detail);
    }

    // Rule 3: signed, so from here on the content is the manager's, but still checked.
    const payload = reading.payload;
    const rawVersion = ownField(payload, 'version');
    const version = isVersion(rawVersion) ? rawVersion : undefined;
    const service = ownField(payload, 'service');
    if (
      typeof service !== 'string' ||
      service !== context.topicService ||
      service !== this.service
    ) {
      return reject(
        'service',
        `payload is for service ${typeof service === 'string' ? echo(service) : '(none)'}, ` +
          `the topic is for ${context.topicService === undefined ? '(no service)' : echo(context.topicService)} ` +
          `and this client is ${this.service}`,
        version,
      );
    }
    // A candidate names its cohort inside the signature; on the stable topic it would reach
    // every instance, so the broker could choose who runs it: it is bound to its own topic.
    const instanceId = topic.kind === 'config' ? undefined : topic.instanceId;
    const candidate =
      instanceId !== undefined && (topic.kind === 'candidate' || Object.hasOwn(payload, 'rollout'));
    if (topic.kind === 'config' && Object.hasOwn(payload, 'rollout')) {
      return reject(
        'service',
        `payload is a candidate (it names a rollout) on the config topic of ${this.service}: ` +
          'candidates are applied only from the candidate topic',
        version,
      );
    }
    if (version === undefined) {
      return reject('malformed', 'payload.version must be a positive integer');
    }
    const issuedAt = ownField(payload, 'issuedAt');

    // A tombstone: signed and for us, it says the service was archived at `version`. It is not a
    // version to apply (no rule 4: it names the last one), nor a rejection.
    if (ownField(payload, 'archived') === true) {
      return typeof issuedAt === 'string'
        ? { kind: 'archived', version, issuedAt }
        : { kind: 'archived', version };
    }

    // A candidate: its rollout must be readable, and name this instance.
    let rollout: CandidateRollout | undefined;
    if (candidate) {
      const target = readRollout(ownField(payload, 'rollout'), version);
      if (typeof target === 'string') {
        return reject('malformed', `payload.rollout ${target}`, version);
      }
      if (!target.instances.includes(instanceId)) {
        return { kind: 'not-targeted', version, rolloutId: target.id };
      }
      rollout = { id: target.id, step: target.step, stableVersion: target.stableVersion };
    }

    // Rule 4: only newer versions; the same one again is the retained copy, a redelivery or a
    // heartbeat's re-signed copy (the caller decides whether it attests).
    if (version === context.appliedVersion) {
      return typeof issuedAt === 'string' && readDateTime(issuedAt) !== undefined
        ? { kind: 'duplicate', version, issuedAt }
        : { kind: 'duplicate', version };
    }
    if (
      topic.kind === 'config' &&
      version < context.appliedVersion &&
      version === context.candidateStableVersion
    ) {
      // The stable version the applied candidate replaced, still retained on the stable topic.
      return { kind: 'behind-candidate', version };
    }
    if (version < context.appliedVersion) {
      return reject(
        'stale',
        `version ${version} is older than the applied version ${context.appliedVersion} (replayed or out of order)`,
        version,
      );
    }

    // Rule 4a: a worker with nothing applied has no better config to compare with, so it refuses
    // a payload long past its expiry (an old retained message replayed to a new instance). A
    // worker that runs a version takes any newer one, and a saved envelope is for outages.
    const expiry = this.checkExpiry(ownField(payload, 'expiresAt'), version, context, topic);
    if (expiry !== undefined) {
      return expiry;
    }

    // Rule 5: the non-secret config against our own schema, or the signed schema it was built
    // for (never an unsigned one); secrets must not hide in it.
    const schemaHash = ownField(payload, 'schemaHash');
    let rules = this.own;
    let signedSchema: SignedSchema | undefined;
    if (rules === undefined) {
      if (typeof schemaHash !== 'string') {
        return reject(
          'schema',
          'payload names no schemaHash, and this client validates only with signed schemas',
          version,
        );
      }
      signedSchema = context.signedSchemas?.get(schemaHash);
      if (signedSchema === undefined) {
        return { kind: 'pending', version, schemaHash };
      }
      rules = this.signedRulesOf(signedSchema.definition);
    }
    const validated = validateConfig(rules.definition, ownField(payload, 'config'));
    if (!validated.ok) {
      const which =
        signedSchema === undefined
          ? `the ${this.service} schema`
          : `the signed ${this.service} schema version ${signedSchema.schemaVersion}`;
      return reject(
        'schema',
        `config does not match ${which}: ${summarize(validated.issues)}`,
        version,
      );
    }

    // Rule 6: every secret opens with our key and is valid where it lands.
    const opened = this.openSecrets(ownField(payload, 'secrets'), version, rules);
    if ('kind' in opened) {
      return opened;
    }
    const config = validated.config;
    for (const path of rules.secretPaths) {
      const value = opened.has(path) ? opened.get(path) : rules.secretDefaults.get(path);
      if (!setAtPath(config, path, value) && opened.has(path)) {
        return reject('secret', `secret ${path} has no object to live in`, version);
      }
    }
    // Schema defaults for absent secrets are valid by construction; only opened values need a check.
    const complete =
      opened.size > 0
        ? validateConfig(rules.definition, config, { allowSecrets: true })
        : ({ ok: true, config } as const);
    if (!complete.ok) {
      // Issue messages name paths and rules, never the values.
      return reject('secret', `opened secrets are invalid: ${summarize(complete.issues)}`, version);
    }

    return {
      kind: 'accepted',
      version,
      payload: {
        service,
        version,
        issuedAt: typeof issuedAt === 'string' ? issuedAt : undefined,
        schemaHash: typeof schemaHash === 'string' ? schemaHash : undefined,
        secretPaths: [...opened.keys()],
      },
      config: complete.config,
      // A signed schema is the one the config was built for: no drift by construction.
      schemaDrift: signedSchema === undefined && schemaHash !== rules.definition.schemaHash,
      ...(signedSchema === undefined ? {} : { signedSchema }),
      ...(rollout === undefined ? {} : { rollout }),
    };
  }

  // Absent: never expires (managers before expiresAt). Present: a wire date-time, else malformed.
  private checkExpiry(
    raw: unknown,
    version: number,
    context: VerificationContext,
    topic: TopicKind,
  ): Rejected | undefined {
    if (raw === undefined || topic.kind === 'saved') {
      return undefined;
    }
    const expiresAt = readDateTime(raw);
    if (expiresAt === undefined) {
      return reject(
        'malformed',
        'payload.expiresAt must be an RFC 3339 date-time (2026-11-21T20:00:00.000Z)',
        version,
      );
    }
    const now = context.now ?? Date.now();
    if (context.appliedVersion === 0 && now - expiresAt > EXPIRY_SKEW_MS) {
      return reject(
        'expired',
        `version ${version} expired at ${raw as string}, more than ${EXPIRY_SKEW_MS / 60_000} minutes ago, ` +
          'and this worker has nothing applied to compare it with (an old retained message, or the manager stopped re-signing)',
        version,
      );
    }
    return undefined;
  }

  private signedRulesOf(definition: ServiceDefinition): SchemaRules {
    let rules = this.signedRules.get(definition);
    if (rules === undefined) {
      rules = rulesOf(definition);
      this.signedRules.set(definition, rules);
    }
    return rules;
  }

  private openSecrets(
    raw: unknown,
    version: number,
    rules: SchemaRules,
  ): Map<string, string> | Rejected {
    const opened = new Map<string, string>();
    // A manager with no recipient key for the service sends none; absent means the same.
    if (raw === undefined) {
      return opened;
    }
    if (!isPlainObject(raw)) {
      return reject('secret', 'payload.secrets must be an object', version);
    }
    const paths = Object.keys(raw);
    const unknown = paths.find((path) => !rules.secretPaths.has(path));
    if (unknown !== undefined) {
      return reject(
        'secret',
        `payload.secrets has ${echo(unknown)}, which is not a secret path of ${this.service}`,
        version,
      );
    }
    if (paths.length > 0 && this.secretKey === undefined) {
      return reject(
        'secret',
        `payload carries sealed secrets (${paths.join(', ')}) but this client has no X25519 secret key`,
        version,
      );
    }
    for (const path of paths) {
      const plaintext = this.openWithAnyKey(raw[path]);
      if (!Buffer.isBuffer(plaintext)) {
        return reject('secret', `secret ${path} does not open: ${plaintext.why}`, version);
      }
      const text = decodeUtf8(plaintext);
      plaintext.fill(0);
      if (text === undefined) {
        return reject('secret', `secret ${path} is not UTF-8 text`, version);
      }
      opened.set(path, text);
    }
    return opened;
  }

  // The current key first; during a rotation's overlap, each previous key. The reason reported
  // is the current key's: the one an operator expects to open it.
  private openWithAnyKey(sealed: unknown): Buffer | { readonly why: string } {
    let first: string | undefined;
    for (const key of [this.secretKey as Buffer, ...this.previousSecretKeys]) {
      try {
        return openSealedSecret(sealed, key);
      } catch (error) {
        first ??= error instanceof CryptoError ? error.message : 'it could not be read';
      }
    }
    return { why: first ?? 'it could not be read' };
  }
}

// The cohort is the manager's, signed: checked for shape only, so that a broken one is refused
// by every instance (targeted or not) rather than read differently by each.
function readRollout(raw: unknown, version: number): RolloutTargetReading | string {
  if (!isPlainObject(raw)) {
    return 'must be an object { id, step, stableVersion, instances } (a candidate names its rollout)';
  }
  const id = ownField(raw, 'id');
  const step = ownField(raw, 'step');
  const stableVersion = ownField(raw, 'stableVersion');
  const instances = ownField(raw, 'instances');
  if (typeof id !== 'string' || id.length === 0) {
    return 'id must be a non-empty string';
  }
  if (!isVersion(step)) {
    return 'step must be a positive integer';
  }
  if (!isVersion(stableVersion) || stableVersion >= version) {
    return `stableVersion must be a positive integer below the candidate's version ${version}`;
  }
  if (!Array.isArray(instances) || !instances.every((entry) => typeof entry === 'string')) {
    return 'instances must be an array of instance ids';
  }
  return { id, step, stableVersion, instances };
}

function rulesOf(definition: ServiceDefinition): SchemaRules {
  return {
    definition,
    secretDefaults: secretDefaultsOf(definition),
    secretPaths: new Set(definition.secretPaths),
  };
}

function reject(reason: RejectionReason, detail: string, version?: number): Rejected {
  return version === undefined
    ? { kind: 'rejected', reason, detail }
    : { kind: 'rejected', reason, version, detail };
}

function summarize(issues: readonly ConfigIssue[]): string {
  const shown = issues.slice(0, MAX_ISSUES_IN_DETAIL).map((issue) => issue.message);
  const more = issues.length - shown.length;
  return shown.join('; ') + (more > 0 ? ` (and ${more} more)` : '');
}

function invalidOption(option: string, message: string): ConfigClientError {
  return new ConfigClientError(ConfigClientErrorCode.InvalidOption, message, [option]);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
