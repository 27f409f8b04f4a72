import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import {
  checkServiceSchema,
  type DevKeysFile,
  EnvBase64Key,
  EnvCheck,
  EnvDefault,
  EnvDevKey,
  EnvDevKeysDirectory,
  type EnvFieldContext,
  EnvInteger,
  EnvKeyList,
  EnvNodeEnv,
  EnvParse,
  EnvPath,
  EnvRequired,
  EnvString,
  EnvUrl,
  INSTANCE_ID_PATTERN,
  type JsonSchema,
  MAX_SCHEMA_BYTES,
  type NodeEnv,
  SERVICE_NAME_PATTERN,
  type ServiceDefinition,
} from '@app/contracts';
import {
  decodeBase64Key,
  decodeStrictBase64,
  type KeyListEntry,
  parseKeyList,
  signingPublicKeyOf,
} from '@app/crypto';
import { parseInstanceLabels } from './instance-labels';
import { MIN_LKG_HMAC_KEY_BYTES } from './last-known-good';
import { DEFAULT_MAX_STALENESS_SECONDS, MAX_STALENESS_SECONDS } from './config-client.options';

const ED25519_PUBLIC_KEY_BYTES = 32;
const X25519_KEY_BYTES = 32;
const GENERATED_HMAC_KEY_BYTES = 32;
const MAX_INSTANCE_ID_LENGTH = 128;
// Pretty-printed, a schema file is larger than its canonical JSON; far larger is not a schema.
const MAX_SCHEMA_FILE_BYTES = 4 * MAX_SCHEMA_BYTES;
const MAX_SCHEMA_PROBLEMS = 5;

type Ctx = EnvFieldContext<ConfigClientEnvironment>;

/** SERVICE_SCHEMA_FILE once read: the JSON Schema it holds, checked for SERVICE_NAME. */
export interface ServiceSchemaFile {
  readonly path: string;
  readonly schema: JsonSchema;
  readonly definition: ServiceDefinition;
}

/**
 * Every variable the worker SDK reads, in the order problems are reported. Outside production,
 * keys that are not set come from config-manager's DATA_DIR/dev-keys.json when it exists (the
 * SDK never creates that file; it only adds its own LKG_HMAC_KEY to it).
 */
export class ConfigClientEnvironment {
  /**
   * `serviceFromCode`: the worker's service when its code knows it; SERVICE_NAME must agree.
   * `schemaFromCode`: the worker's code brings its schema, so SERVICE_SCHEMA_FILE must be unset.
   */
  constructor(
    readonly serviceFromCode?: string,
    readonly schemaFromCode = false,
  ) {}

  @EnvNodeEnv() NODE_ENV: NodeEnv = 'development';

  @EnvDevKeysDirectory({ generate: false }) @EnvDefault('./data') DATA_DIR!: string;

  @EnvParse(parseService)
  @EnvDefault<ConfigClientEnvironment>((ctx) => ctx.values.serviceFromCode)
  @EnvRequired('SERVICE_NAME is required (the service as registered on config-manager)')
  SERVICE_NAME!: string;

  /** Optional: the service's JSON Schema; unset, the code's schema or the manager's signed one. */
  @EnvParse(parseSchemaFile) SERVICE_SCHEMA_FILE?: ServiceSchemaFile;

  @EnvUrl({
    protocols: ['mqtt', 'mqtts', 'ws', 'wss', 'tcp', 'ssl'],
    description: 'an mqtt://, mqtts://, ws:// or wss://',
  })
  @EnvRequired('MQTT_URL is required (mqtt://host:1883, mqtts://…, ws://…, wss://…)')
  MQTT_URL!: string;

  @EnvString({ trim: false }) MQTT_USERNAME?: string;

  @EnvString({ trim: false }) MQTT_PASSWORD?: string;

  @EnvPath({ mustExist: true }) MQTT_CA_FILE?: string;

  @EnvString({
    pattern: /^([A-Za-z0-9._-]+\/)*$/,
    message: 'MQTT_TOPIC_PREFIX must be empty or segments ending in "/", like "tenant-a/"',
  })
  MQTT_TOPIC_PREFIX = '';

  @EnvString({
    pattern: INSTANCE_ID_PATTERN,
    message: `INSTANCE_ID must match ${String(INSTANCE_ID_PATTERN)} (it is an MQTT topic segment)`,
  })
  @EnvDefault(() => defaultInstanceId())
  INSTANCE_ID!: string;

  /** `key=value,…`: what this instance says it is, in every status (rollouts select cohorts by them). */
  @EnvParse(parseLabels) INSTANCE_LABELS: Readonly<Record<string, string>> = {};

  @EnvKeyList({
    bytes: ED25519_PUBLIC_KEY_BYTES,
    nonEmpty: 'CONFIG_TRUSTED_KEYS must list at least one kid:base64Ed25519PublicKey',
  })
  @EnvDevKey(devTrustedKeys)
  @EnvRequired(
    'CONFIG_TRUSTED_KEYS is required (kid:base64Ed25519PublicKey,…; GET /api/keys lists them)',
  )
  CONFIG_TRUSTED_KEYS!: KeyListEntry[];

  /** Optional: without it, configs that carry secrets are rejected (a warning says so). */
  @EnvBase64Key({ bytes: X25519_KEY_BYTES })
  @EnvDevKey(devSecretKey)
  CONFIG_SECRET_KEY?: Buffer;

  /** Comma-separated earlier X25519 secret keys (base64): the overlap of a recipient key rotation. */
  @EnvParse(parseSecretKeyList)
  @EnvCheck<Buffer[], ConfigClientEnvironment>((keys, ctx) =>
    keys.length > 0 && ctx.values.CONFIG_SECRET_KEY === undefined
      ? 'CONFIG_SECRET_KEYS_PREVIOUS is set without CONFIG_SECRET_KEY: set the new key too'
      : undefined,
  )
  CONFIG_SECRET_KEYS_PREVIOUS: Buffer[] = [];

  @EnvParse(parseHmacKey)
  @EnvDevKey((keys) =>
    keys.getOrGenerate('LKG_HMAC_KEY', () =>
      randomBytes(GENERATED_HMAC_KEY_BYTES).toString('base64'),
    ),
  )
  @EnvRequired(
    `LKG_HMAC_KEY is required (at least ${MIN_LKG_HMAC_KEY_BYTES} random bytes, base64: openssl rand -base64 32)`,
  )
  LKG_HMAC_KEY!: Buffer;

  /** Comma-separated earlier LKG_HMAC_KEYs (base64, each ≥ 16 bytes): a file under one is rewritten under the new key. */
  @EnvParse(parseHmacKeyList) LKG_HMAC_KEYS_PREVIOUS: Buffer[] = [];

  /** Seconds without an attestation before the worker reports itself stale; 0 turns it off. */
  @EnvInteger({ min: 0, max: MAX_STALENESS_SECONDS })
  CONFIG_MAX_STALENESS = DEFAULT_MAX_STALENESS_SECONDS;

  /** Unset: the client's own default. */
  @EnvInteger({ min: 0, max: 600_000 }) INITIAL_CONFIG_TIMEOUT_MS?: number;

  @EnvPath()
  @EnvDefault<ConfigClientEnvironment>(({ values }) =>
    join(
      values.DATA_DIR,
      `${(values.SERVICE_NAME as string | undefined) ?? 'unknown'}.${values.INSTANCE_ID}.lkg.json`,
    ),
  )
  LKG_PATH!: string;
}

/** `<hostname>-<pid>` reduced to INSTANCE_ID_PATTERN (the default INSTANCE_ID). */
export function defaultInstanceId(host: string = hostname(), pid: number = process.pid): string {
  const suffix = `-${pid}`;
  const cleaned = host
    .replace(/[^A-Za-z0-9._:-]/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, MAX_INSTANCE_ID_LENGTH - suffix.length);
  return `${cleaned || 'worker'}${suffix}`;
}

// Any service registered on the manager will do: the SDK need not know it (issue 14).
function parseService(raw: string, ctx: Ctx): string | undefined {
  const fromCode = ctx.values.serviceFromCode;
  if (fromCode !== undefined && raw !== fromCode) {
    ctx.problem(`SERVICE_NAME is ${JSON.stringify(raw)}, but this worker is ${fromCode}`);
    return undefined;
  }
  if (!SERVICE_NAME_PATTERN.test(raw)) {
    ctx.problem(
      `SERVICE_NAME ${JSON.stringify(raw)} must match ${String(SERVICE_NAME_PATTERN)} (it is an MQTT topic segment)`,
    );
    return undefined;
  }
  return raw;
}

// Read and checked here, so a bad file is one more problem in the same start-up message.
function parseSchemaFile(raw: string, ctx: Ctx): ServiceSchemaFile | undefined {
  if (ctx.values.schemaFromCode) {
    ctx.problem('SERVICE_SCHEMA_FILE is set, but this worker brings its own schema: unset it');
    return undefined;
  }
  const path = isAbsolute(raw) ? raw : resolve(raw);
  let text: string;
  try {
    const size = statSync(path).size;
    if (size > MAX_SCHEMA_FILE_BYTES) {
      ctx.problem(`SERVICE_SCHEMA_FILE ${raw} is ${size} bytes, too large for a service schema`);
      return undefined;
    }
    text = readFileSync(path, 'utf8');
  } catch (error) {
    ctx.problem(
      `SERVICE_SCHEMA_FILE ${raw} cannot be read (${errnoCode(error) ?? 'unknown error'})`,
    );
    return undefined;
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    ctx.problem(`SERVICE_SCHEMA_FILE ${raw} is not JSON`);
    return undefined;
  }
  const service = ctx.values.SERVICE_NAME as string | undefined;
  if (service === undefined) {
    // SERVICE_NAME's own problem is reported; the schema is checked once it is known.
    return undefined;
  }
  const check = checkServiceSchema(service, '', document);
  if (!check.ok) {
    const shown = check.problems.slice(0, MAX_SCHEMA_PROBLEMS).map((problem) => problem.message);
    const more = check.problems.length - shown.length;
    ctx.problem(
      `SERVICE_SCHEMA_FILE ${raw} is not a usable JSON Schema: ${shown.join('; ')}` +
        (more > 0 ? ` (and ${more} more)` : ''),
    );
    return undefined;
  }
  return { path, schema: document as JsonSchema, definition: check.definition };
}

function parseLabels(raw: string, ctx: Ctx): Readonly<Record<string, string>> | undefined {
  const reading = parseInstanceLabels(raw, ctx.name);
  if (!reading.ok) {
    reading.problems.forEach((problem) => ctx.problem(problem));
    return undefined;
  }
  return reading.labels;
}

// `a,b,c`: each entry is named by its position, never shown.
function parseList<V>(
  raw: string,
  ctx: Ctx,
  parseOne: (value: string, ctx: Ctx) => V | undefined,
): V[] | undefined {
  let valid = true;
  const values = raw
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .flatMap((entry, i) => {
      const value = parseOne(entry, { ...ctx, name: `${ctx.name}[${i}]` });
      valid &&= value !== undefined;
      return value === undefined ? [] : [value];
    });
  return valid ? values : undefined;
}

function parseHmacKeyList(raw: string, ctx: Ctx): Buffer[] | undefined {
  return parseList(raw, ctx, parseHmacKey);
}

function parseSecretKeyList(raw: string, ctx: Ctx): Buffer[] | undefined {
  return parseList(raw, ctx, (value, entry) => {
    try {
      return decodeBase64Key(value, X25519_KEY_BYTES, entry.name);
    } catch (error) {
      entry.problem(errorMessage(error));
      return undefined;
    }
  });
}

function parseHmacKey(raw: string, ctx: Ctx): Buffer | undefined {
  const key = decodeStrictBase64(raw);
  if (key === undefined) {
    ctx.problem(`${ctx.name} is not valid base64`);
    return undefined;
  }
  if (key.length < MIN_LKG_HMAC_KEY_BYTES) {
    ctx.problem(
      `${ctx.name} must decode to at least ${MIN_LKG_HMAC_KEY_BYTES} bytes (got ${key.length})`,
    );
    return undefined;
  }
  return key;
}

/** CONFIG_TRUSTED_KEYS from the manager's CONFIG_SIGNING_KEY_ID and the public half of CONFIG_SIGNING_KEY. */
function devTrustedKeys(keys: DevKeysFile, ctx: Ctx): string | undefined {
  const kid = keys.get('CONFIG_SIGNING_KEY_ID');
  const secret = keys.get('CONFIG_SIGNING_KEY');
  if (kid === undefined || secret === undefined) {
    return undefined;
  }
  try {
    const secretKey = decodeBase64Key(secret, 64, `${keys.path} CONFIG_SIGNING_KEY`);
    const publicKey = signingPublicKeyOf(secretKey, `${keys.path} CONFIG_SIGNING_KEY`);
    secretKey.fill(0);
    return `${kid}:${publicKey.toString('base64')}`;
  } catch (error) {
    ctx.problem(`CONFIG_TRUSTED_KEYS is not set and cannot be derived: ${errorMessage(error)}`);
    return undefined;
  }
}

/** CONFIG_SECRET_KEY from the service's entry in the manager's SERVICE_SECRET_KEYS. */
function devSecretKey(keys: DevKeysFile, ctx: Ctx): string | undefined {
  const list = keys.get('SERVICE_SECRET_KEYS');
  const service = ctx.values.SERVICE_NAME;
  if (list === undefined || service === undefined) {
    return undefined;
  }
  try {
    const entry = parseKeyList(list, X25519_KEY_BYTES, `${keys.path} SERVICE_SECRET_KEYS`).find(
      (candidate) => candidate.id === service,
    );
    return entry?.key.toString('base64');
  } catch (error) {
    ctx.problem(`CONFIG_SECRET_KEY is not set and cannot be derived: ${errorMessage(error)}`);
    return undefined;
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : 'invalid key';
}

// Not `instanceof Error`: errors from Node's fs may come from another realm (as under Jest).
function errnoCode(error: unknown): string | undefined {
  return typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    typeof error.code === 'string'
    ? error.code
    : undefined;
}
