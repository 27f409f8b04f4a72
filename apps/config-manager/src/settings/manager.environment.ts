import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import {
  EnvBoolean,
  EnvCheck,
  EnvDefault,
  EnvDevKey,
  EnvDevKeysDirectory,
  EnvIf,
  EnvInteger,
  EnvKeyList,
  EnvNodeEnv,
  EnvParse,
  EnvPath,
  EnvRequiredIf,
  EnvRequiredInProduction,
  EnvString,
  EnvUrl,
  type NodeEnv,
} from '@app/contracts';
import { type KeyListEntry, type MasterKey, randomBase64 } from '@app/crypto';
import { EnvLogFormat, EnvLogLevel, type LogFormat, type LogLevel } from '@app/logging';
import {
  parseApiTokens,
  parseCorsOrigins,
  parseDatabaseUrl,
  parseMasterKey,
  parseMasterKeyList,
} from './manager-environment.parsers';
import { TOPIC_PREFIX } from './mqtt-settings';
import type { ApiTokenSetting, DatabaseSettings } from './settings';
import {
  devRecipientKeys,
  devSigningKey,
  devSigningKeyId,
  KEY_ID,
  parseRecipientKeys,
  parseSigningKey,
  type SigningKeyPair,
} from './signing-settings';

/**
 * Every variable config-manager reads (README, "Configuration"), in the order problems are
 * reported; loadSettings() turns it into Settings. State follows DATA_DIR: the default SQLite
 * file, generated development keys and the generated admin token all live there.
 * CONFIG_DEFAULTS_DIR and ADMIN_UI_DIR are shipped files, so they stay relative to the working
 * directory.
 */
export class ManagerEnvironment {
  @EnvNodeEnv() NODE_ENV: NodeEnv = 'development';

  @EnvDevKeysDirectory({ generate: true }) @EnvDefault('./data') DATA_DIR!: string;

  @EnvString()
  @EnvDefault<ManagerEnvironment>((ctx) => (ctx.production ? 'production' : 'development'))
  APP_ENV!: string;

  @EnvString() HOST = '0.0.0.0';

  @EnvInteger({ min: 0, max: 65535 }) PORT = 8080;

  @EnvParse(parseDatabaseUrl)
  @EnvDefault<ManagerEnvironment>((ctx) => `sqlite:${join(ctx.values.DATA_DIR, 'config.db')}`)
  DATABASE_URL!: DatabaseSettings;

  @EnvPath() @EnvDefault('./config/defaults') CONFIG_DEFAULTS_DIR!: string;

  @EnvInteger({ min: 50, max: 60000 }) DB_PROBE_INTERVAL_MS = 2000;

  @EnvLogLevel() LOG_LEVEL: LogLevel = 'log';

  /** Unset: readable lines in development, JSON lines in production and test. */
  @EnvLogFormat() LOG_FORMAT!: LogFormat;

  @EnvParse(parseMasterKey)
  @EnvDevKey((keys) => keys.getOrGenerate('CONFIG_MASTER_KEY', () => randomBase64(32)))
  @EnvRequiredInProduction(
    'CONFIG_MASTER_KEY is required in production (generate one with: openssl rand -base64 32)',
  )
  CONFIG_MASTER_KEY!: MasterKey;

  @EnvParse(parseMasterKeyList) CONFIG_MASTER_KEYS_PREVIOUS: MasterKey[] = [];

  /** Requests per minute one client IP may make to /api (health and metrics are not limited). */
  @EnvInteger({ min: 1, max: 1_000_000 }) RATE_LIMIT_PER_MINUTE = 600;

  @EnvParse(parseCorsOrigins) CORS_ORIGINS: string[] = [];

  @EnvInteger({ min: 0, max: 10 }) TRUST_PROXY_HOPS = 0;

  /** Test hook of the chaos harness (chaos/, scenario 2); refused in production. */
  @EnvBoolean()
  @EnvCheck<boolean>((on, ctx) =>
    on && ctx.production
      ? 'CHAOS_EXIT_AFTER_COMMIT is a test hook and is refused in production'
      : undefined,
  )
  CHAOS_EXIT_AFTER_COMMIT = false;

  @EnvInteger({ min: 1, max: 1_000_000 }) INSTANCES_MAX_PER_SERVICE = 2000;

  @EnvInteger({ min: 1, max: 365 * 24 * 3600 }) INSTANCE_OFFLINE_TTL_SECONDS = 7 * 24 * 3600;

  /** How often the rollout state machine looks at the instance view (docs/rollouts.md). */
  @EnvInteger({ min: 20, max: 60000 }) ROLLOUT_TICK_MS = 250;

  /** How long a signed config or candidate payload stays valid (`expiresAt`, docs/recovery.md). */
  @EnvInteger({ min: 60, max: 10 * 365 * 24 * 3600 }) CONFIG_ENVELOPE_TTL_SECONDS = 7 * 24 * 3600;

  /** How often the current versions are re-signed and republished (0 = never): below the TTL. */
  @EnvInteger({ min: 0, max: 24 * 3600 })
  @EnvCheck<number, ManagerEnvironment>((seconds, ctx) =>
    seconds > 0 && seconds >= ctx.values.CONFIG_ENVELOPE_TTL_SECONDS
      ? `CONFIG_HEARTBEAT_SECONDS (${seconds}) must be less than CONFIG_ENVELOPE_TTL_SECONDS ` +
        `(${ctx.values.CONFIG_ENVELOPE_TTL_SECONDS}), or payloads expire between heartbeats`
      : undefined,
  )
  CONFIG_HEARTBEAT_SECONDS = 60;

  /**
   * How far above the highest authentic version an instance's reported (unsigned) applied
   * version is believed when a restored store is behind the fleet (docs/recovery.md).
   */
  @EnvInteger({ min: 0, max: 1_000_000_000 }) RESTORE_MAX_VERSION_GAP = 10_000;

  /** Empty means "generate an admin token into DATA_DIR at first start" (development only). */
  @EnvParse(parseApiTokens)
  @EnvCheck<ApiTokenSetting[]>((tokens, ctx) =>
    ctx.production && tokens.length === 0
      ? 'API_TOKENS is required in production (a generated admin token is for development only)'
      : undefined,
  )
  API_TOKENS: ApiTokenSetting[] = [];

  /** Unset: the embedded broker (development only). */
  @EnvUrl({
    protocols: ['mqtt', 'mqtts', 'ws', 'wss', 'tcp', 'ssl'],
    description: 'an mqtt://, mqtts://, ws:// or wss://',
  })
  @EnvRequiredInProduction(
    'MQTT_URL is required in production (the embedded broker is for development only)',
  )
  MQTT_URL?: string;

  @EnvString({ trim: false }) MQTT_USERNAME?: string;

  @EnvString({ trim: false }) MQTT_PASSWORD?: string;

  @EnvPath({ mustExist: true }) MQTT_CA_FILE?: string;

  /** Read only without MQTT_URL: where the embedded broker listens. */
  @EnvIf<ManagerEnvironment>((ctx) => ctx.values.MQTT_URL === undefined)
  @EnvString()
  MQTT_EMBEDDED_HOST = '127.0.0.1';

  @EnvIf<ManagerEnvironment>((ctx) => ctx.values.MQTT_URL === undefined)
  @EnvInteger({ min: 0, max: 65535 })
  MQTT_EMBEDDED_PORT = 1884;

  @EnvString({
    pattern: TOPIC_PREFIX,
    message: 'MQTT_TOPIC_PREFIX must be empty or segments ending in "/", like "tenant-a/"',
  })
  MQTT_TOPIC_PREFIX = '';

  @EnvString()
  @EnvDefault(() => `config-manager-${hostname()}-${randomBytes(3).toString('hex')}`)
  MQTT_CLIENT_ID!: string;

  @EnvInteger({ min: 50, max: 60000 }) MQTT_ACK_TIMEOUT_MS = 2000;

  @EnvParse(parseSigningKey)
  @EnvDevKey(devSigningKey)
  @EnvRequiredInProduction(
    'CONFIG_SIGNING_KEY is required in production (generate keys with: npm run keys -- generate)',
  )
  CONFIG_SIGNING_KEY!: SigningKeyPair;

  @EnvString({
    pattern: KEY_ID,
    message: 'CONFIG_SIGNING_KEY_ID must be 1-64 letters, digits, . _ - (e.g. cfg-2026-11)',
  })
  @EnvDevKey(devSigningKeyId)
  @EnvRequiredIf(
    (ctx) => ctx.sourceOf('CONFIG_SIGNING_KEY') === 'env',
    'CONFIG_SIGNING_KEY_ID is required with CONFIG_SIGNING_KEY (e.g. cfg-2026-11)',
  )
  CONFIG_SIGNING_KEY_ID!: string;

  /** Retired signing keys still listed by GET /api/keys: `kid:base64PublicKey,…`. */
  @EnvKeyList({ bytes: 32 })
  @EnvCheck<KeyListEntry[], ManagerEnvironment>((previous, ctx) => {
    const current = ctx.values.CONFIG_SIGNING_KEY_ID;
    return previous.some((p) => p.id === current)
      ? `CONFIG_SIGNING_KEYS_PREVIOUS lists ${current}, the current CONFIG_SIGNING_KEY_ID; give the new key a new id`
      : undefined;
  })
  CONFIG_SIGNING_KEYS_PREVIOUS: KeyListEntry[] = [];

  /** X25519 public key per service that secrets are sealed to; a service without one gets none. */
  @EnvParse(parseRecipientKeys)
  @EnvDevKey(devRecipientKeys)
  SERVICE_RECIPIENT_KEYS: ReadonlyMap<string, Buffer> = new Map();

  @EnvPath() @EnvDefault('./dist/admin-ui') ADMIN_UI_DIR!: string;

  /** Ed25519 public keys of other environments' managers whose export bundles may be imported: `kid:base64,…`. */
  @EnvKeyList({ bytes: 32 })
  IMPORT_TRUSTED_KEYS: KeyListEntry[] = [];
}
