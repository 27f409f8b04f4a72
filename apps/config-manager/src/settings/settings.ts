import { isAbsolute, resolve } from 'node:path';
import { DevKeyFile, SettingsWarn } from './dev-key-file';
import { parseInteger } from './env-parsers';
import { MqttSettings, parseMqttSettings } from './mqtt-settings';
import { SigningSettings, parseRecipientKeys, parseSigningSettings } from './signing-settings';

export { DEV_KEYS_FILE, SettingsWarn } from './dev-key-file';
import { type NodeEnv, parseNodeEnv } from '@app/contracts';
import { CryptoError, MasterKey, masterKeyFromBase64, randomBase64, sha256 } from '@app/crypto';

/** Where the manager keeps its state. */
export type DatabaseSettings =
  { type: 'sqlite'; path: string } | { type: 'postgres'; url: string; schema?: string };

/** A configured API token; only the SHA-256 of the token is kept in memory. */
export interface ApiTokenSetting {
  name: string;
  roles: string[];
  tokenSha256: Buffer;
}

/** Every environment-derived setting of config-manager, parsed and validated once at boot. */
export interface Settings {
  nodeEnv: NodeEnv;
  production: boolean;
  appEnv: string;
  host: string;
  port: number;
  dataDir: string;
  database: DatabaseSettings;
  defaultsDir: string;
  masterKey: MasterKey;
  previousMasterKeys: MasterKey[];
  /** Tokens from API_TOKENS; empty means "generate an admin token at first start". */
  apiTokens: ApiTokenSetting[];
  dbProbeIntervalMs: number;
  /**
   * Test hook of the chaos harness (chaos/, scenario 2): kill the process right after a write
   * commits and before it is published. CHAOS_EXIT_AFTER_COMMIT=1; refused in production.
   */
  chaosExitAfterCommit: boolean;
  logLevel: 'error' | 'warn' | 'log' | 'debug' | 'verbose';
  mqtt: MqttSettings;
  signing: SigningSettings;
  /** X25519 public key per service that secrets are sealed to; a service without one gets none. */
  recipientKeys: ReadonlyMap<string, Buffer>;
  /** Requests per minute one client IP may make to /api (health and metrics are not limited). */
  rateLimitPerMinute: number;
  /** Origins allowed cross-origin access; empty means CORS stays off. */
  corsOrigins: string[];
  /** Reverse-proxy hops whose X-Forwarded-For is trusted for the client IP (0 = none). */
  trustProxyHops: number;
  /** The built admin page (apps/admin-ui), served at `/`. */
  adminUiDir: string;
  /** Most instances the view keeps per service; reports of further ones are refused (counted). */
  instancesMaxPerService: number;
  /** An instance offline for longer than this leaves the instance view. */
  instanceOfflineTtlMs: number;
}

/** Thrown when the environment cannot make a valid Settings; the message names every bad variable. */
export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid environment variables:\n  - ${problems.join('\n  - ')}`);
    this.name = 'SettingsError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const ROLES = ['config:read', 'config:write', 'secrets:write', 'admin'];
const LOG_LEVELS = ['error', 'warn', 'log', 'debug', 'verbose'] as const;

/**
 * Parses and validates the environment. In development a missing key is generated once into
 * `DATA_DIR/dev-keys.json` (with a warning); in production it is an error naming the variable.
 */
export function loadSettings(env: Env, warn: SettingsWarn = console): Settings {
  const problems: string[] = [];
  const nodeEnv = parseNodeEnv(env.NODE_ENV, problems);
  const production = nodeEnv === 'production';
  const dataDir = resolve(env.DATA_DIR?.trim() || './data');

  const port = parsePort(env.PORT, 'PORT', 8080, problems);
  const database = parseDatabaseUrl(
    env.DATABASE_URL?.trim() || 'sqlite:./data/config.db',
    problems,
  );
  const dbProbeIntervalMs = parseInteger(
    env.DB_PROBE_INTERVAL_MS,
    'DB_PROBE_INTERVAL_MS',
    2000,
    50,
    60000,
    problems,
  );

  const logLevelRaw = env.LOG_LEVEL?.trim() || 'log';
  const logLevel = (LOG_LEVELS as readonly string[]).includes(logLevelRaw)
    ? (logLevelRaw as Settings['logLevel'])
    : (problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`), 'log' as const);

  const devKeys = new DevKeyFile(dataDir, !production, warn);
  const masterKey = parseKey('CONFIG_MASTER_KEY', env, devKeys, problems, () => randomBase64(32));
  const previousMasterKeys = (env.CONFIG_MASTER_KEYS_PREVIOUS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .flatMap((value, i) => {
      try {
        return [masterKeyFromBase64(value, `CONFIG_MASTER_KEYS_PREVIOUS[${i}]`)];
      } catch (e) {
        problems.push(
          e instanceof CryptoError ? e.message : `CONFIG_MASTER_KEYS_PREVIOUS[${i}] is invalid`,
        );
        return [];
      }
    });

  const rateLimitPerMinute = parseInteger(
    env.RATE_LIMIT_PER_MINUTE,
    'RATE_LIMIT_PER_MINUTE',
    600,
    1,
    1_000_000,
    problems,
  );
  const corsOrigins = parseCorsOrigins(env.CORS_ORIGINS, problems);
  const trustProxyHops = parseInteger(env.TRUST_PROXY_HOPS, 'TRUST_PROXY_HOPS', 0, 0, 10, problems);
  const chaosExitAfterCommit = env.CHAOS_EXIT_AFTER_COMMIT?.trim() === '1';
  const instancesMaxPerService = parseInteger(
    env.INSTANCES_MAX_PER_SERVICE,
    'INSTANCES_MAX_PER_SERVICE',
    2000,
    1,
    1_000_000,
    problems,
  );
  const instanceOfflineTtlSeconds = parseInteger(
    env.INSTANCE_OFFLINE_TTL_SECONDS,
    'INSTANCE_OFFLINE_TTL_SECONDS',
    7 * 24 * 3600,
    1,
    365 * 24 * 3600,
    problems,
  );

  const apiTokens = parseApiTokens(env.API_TOKENS, problems);
  const mqtt = parseMqttSettings(env, problems);
  const signing = parseSigningSettings(env, devKeys, problems);
  const recipientKeys = parseRecipientKeys(env, devKeys, problems);

  if (production) {
    // Production must be explicit: no in-process broker, no token written to a local file.
    if (!mqtt.url) {
      problems.push(
        'MQTT_URL is required in production (the embedded broker is for development only)',
      );
    }
    if (apiTokens.length === 0) {
      problems.push(
        'API_TOKENS is required in production (a generated admin token is for development only)',
      );
    }
    if (chaosExitAfterCommit) {
      problems.push('CHAOS_EXIT_AFTER_COMMIT is a test hook and is refused in production');
    }
  }
  if (problems.length > 0) {
    throw new SettingsError(problems);
  }
  devKeys.save();
  return {
    nodeEnv,
    production,
    appEnv: env.APP_ENV?.trim() || (production ? 'production' : 'development'),
    host: env.HOST?.trim() || '0.0.0.0',
    port,
    dataDir,
    database,
    defaultsDir: resolve(env.CONFIG_DEFAULTS_DIR?.trim() || './config/defaults'),
    masterKey: masterKey as MasterKey,
    previousMasterKeys,
    apiTokens,
    dbProbeIntervalMs,
    chaosExitAfterCommit,
    logLevel,
    mqtt,
    signing: signing as SigningSettings,
    recipientKeys,
    rateLimitPerMinute,
    corsOrigins,
    trustProxyHops,
    adminUiDir: resolve(env.ADMIN_UI_DIR?.trim() || './dist/admin-ui'),
    instancesMaxPerService,
    instanceOfflineTtlMs: instanceOfflineTtlSeconds * 1000,
  };
}

/** `https://a.example,http://localhost:5173`: each entry an exact http(s) origin. */
function parseCorsOrigins(raw: string | undefined, problems: string[]): string[] {
  const entries = (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return entries
    .filter((entry) => {
      let origin: string | undefined;
      try {
        const url = new URL(entry);
        origin = url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : undefined;
      } catch {
        origin = undefined;
      }
      if (origin !== entry.replace(/\/$/, '')) {
        problems.push(
          `CORS_ORIGINS entries must be origins like https://console.example.com (got "${entry}")`,
        );
        return false;
      }
      return true;
    })
    .map((entry) => entry.replace(/\/$/, ''));
}

function parseKey(
  name: string,
  env: Env,
  devKeys: DevKeyFile,
  problems: string[],
  generate: () => string,
): MasterKey | undefined {
  const value = env[name]?.trim() || devKeys.getOrGenerate(name, generate);
  if (!value) {
    problems.push(`${name} is required in production (generate one with: openssl rand -base64 32)`);
    return undefined;
  }
  try {
    return masterKeyFromBase64(value, name);
  } catch (e) {
    problems.push(e instanceof CryptoError ? e.message : `${name} is invalid`);
    return undefined;
  }
}

function parsePort(
  raw: string | undefined,
  name: string,
  fallback: number,
  problems: string[],
): number {
  return parseInteger(raw, name, fallback, 0, 65535, problems);
}

/** `sqlite:<path>` or `postgres://user@host:port/db?schema=name`. */
function parseDatabaseUrl(raw: string, problems: string[]): DatabaseSettings {
  if (raw.startsWith('sqlite:')) {
    const path = raw.slice('sqlite:'.length);
    if (!path)
      problems.push('DATABASE_URL sqlite: needs a file path, e.g. sqlite:./data/config.db');
    return { type: 'sqlite', path: path === ':memory:' || isAbsolute(path) ? path : resolve(path) };
  }
  if (raw.startsWith('postgres://') || raw.startsWith('postgresql://')) {
    try {
      const url = new URL(raw);
      const schema = url.searchParams.get('schema') ?? undefined;
      if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
        problems.push('DATABASE_URL schema must match ^[a-z_][a-z0-9_]{0,62}$');
      }
      url.searchParams.delete('schema');
      return { type: 'postgres', url: url.toString(), schema };
    } catch {
      problems.push('DATABASE_URL is not a valid postgres:// URL');
      return { type: 'postgres', url: raw };
    }
  }
  problems.push('DATABASE_URL must start with sqlite: or postgres://');
  return { type: 'sqlite', path: '' };
}

interface RawToken {
  name?: unknown;
  roles?: unknown;
  token?: unknown;
  tokenSha256?: unknown;
}

function parseApiTokens(raw: string | undefined, problems: string[]): ApiTokenSetting[] {
  if (raw === undefined || raw.trim() === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    problems.push(
      'API_TOKENS must be a JSON array like [{"name":"ops","roles":["admin"],"token":"..."}]',
    );
    return [];
  }
  if (!Array.isArray(parsed)) {
    problems.push('API_TOKENS must be a JSON array');
    return [];
  }
  const tokens: ApiTokenSetting[] = [];
  parsed.forEach((entry: RawToken, i) => {
    const where = `API_TOKENS[${i}]`;
    if (typeof entry !== 'object' || entry === null) {
      problems.push(`${where} must be an object`);
      return;
    }
    if (typeof entry.name !== 'string' || !/^[\w.@-]{1,64}$/.test(entry.name)) {
      problems.push(`${where}.name must be 1-64 characters of letters, digits, . _ @ -`);
      return;
    }
    const roles = entry.roles;
    if (
      !Array.isArray(roles) ||
      roles.length === 0 ||
      !roles.every((r) => ROLES.includes(r as string))
    ) {
      problems.push(`${where}.roles must be a non-empty array of ${ROLES.join(', ')}`);
      return;
    }
    let tokenSha256: Buffer;
    if (typeof entry.token === 'string' && entry.tokenSha256 === undefined) {
      if (entry.token.length < 16) {
        problems.push(`${where}.token must be at least 16 characters`);
        return;
      }
      tokenSha256 = sha256(entry.token);
    } else if (typeof entry.tokenSha256 === 'string' && entry.token === undefined) {
      if (!/^[0-9a-f]{64}$/i.test(entry.tokenSha256)) {
        problems.push(`${where}.tokenSha256 must be 64 hex characters`);
        return;
      }
      tokenSha256 = Buffer.from(entry.tokenSha256, 'hex');
    } else {
      problems.push(`${where} needs exactly one of "token" or "tokenSha256"`);
      return;
    }
    tokens.push({ name: entry.name, roles: roles as string[], tokenSha256 });
  });
  const names = tokens.map((t) => t.name);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate) problems.push(`API_TOKENS has two tokens named "${duplicate}"`);
  return tokens;
}
