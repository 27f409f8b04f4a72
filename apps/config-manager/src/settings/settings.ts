import {
  type DevKeysUse,
  type EnvironmentVariables,
  type NodeEnv,
  readEnvironment,
} from '@app/contracts';
import type { MasterKey } from '@app/crypto';
import type { LogFormat, LogLevel } from '@app/logging';
import { ManagerEnvironment } from './manager.environment';
import { MqttSettings, mqttSettingsOf } from './mqtt-settings';
import type { SigningSettings } from './signing-settings';

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
  logLevel: LogLevel;
  /** `json` lines, or `pretty` lines for a person (LOG_FORMAT; default by NODE_ENV). */
  logFormat: LogFormat;
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
  /** Public keys, by key id, of the managers whose export bundles this one imports. */
  importTrustedKeys: ReadonlyMap<string, Buffer>;
  /** An instance offline for longer than this leaves the instance view. */
  instanceOfflineTtlMs: number;
  /** How often the rollout state machine looks at the instance view (ROLLOUT_TICK_MS). */
  rolloutTickMs: number;
  /** How long a signed config or candidate payload is valid: `expiresAt` = `issuedAt` + this. */
  envelopeTtlMs: number;
  /** How often the current versions are re-signed and republished; 0 = never (CONFIG_HEARTBEAT_SECONDS). */
  heartbeatMs: number;
  /** How far above the highest authentic version a reported applied version is believed (RESTORE_MAX_VERSION_GAP). */
  restoreMaxVersionGap: number;
}

/** Something that receives warnings produced while settings are loaded (the boot logger). */
export interface SettingsWarn {
  warn(message: string): void;
}

/**
 * Reads and validates the environment (ManagerEnvironment) once, at boot; throws one
 * EnvironmentError naming every bad variable. In development a missing key is generated once
 * into `DATA_DIR/dev-keys.json` (with a warning); in production it is an error naming the
 * variable.
 */
export function loadSettings(env: EnvironmentVariables, warn: SettingsWarn = console): Settings {
  const { values: e, devKeys } = readEnvironment(ManagerEnvironment, env);
  if (devKeys !== undefined) warn.warn(devKeysWarning(devKeys));
  const production = e.NODE_ENV === 'production';
  return {
    nodeEnv: e.NODE_ENV,
    production,
    appEnv: e.APP_ENV,
    host: e.HOST,
    port: e.PORT,
    dataDir: e.DATA_DIR,
    database: e.DATABASE_URL,
    defaultsDir: e.CONFIG_DEFAULTS_DIR,
    masterKey: e.CONFIG_MASTER_KEY,
    previousMasterKeys: e.CONFIG_MASTER_KEYS_PREVIOUS,
    apiTokens: e.API_TOKENS,
    dbProbeIntervalMs: e.DB_PROBE_INTERVAL_MS,
    chaosExitAfterCommit: e.CHAOS_EXIT_AFTER_COMMIT,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    mqtt: mqttSettingsOf(e),
    signing: {
      keyId: e.CONFIG_SIGNING_KEY_ID,
      ...e.CONFIG_SIGNING_KEY,
      previous: e.CONFIG_SIGNING_KEYS_PREVIOUS.map((p) => ({ kid: p.id, publicKey: p.key })),
    },
    recipientKeys: e.SERVICE_RECIPIENT_KEYS,
    rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
    corsOrigins: e.CORS_ORIGINS,
    trustProxyHops: e.TRUST_PROXY_HOPS,
    adminUiDir: e.ADMIN_UI_DIR,
    instancesMaxPerService: e.INSTANCES_MAX_PER_SERVICE,
    importTrustedKeys: new Map(e.IMPORT_TRUSTED_KEYS.map((k) => [k.id, k.key])),
    instanceOfflineTtlMs: e.INSTANCE_OFFLINE_TTL_SECONDS * 1000,
    rolloutTickMs: e.ROLLOUT_TICK_MS,
    envelopeTtlMs: e.CONFIG_ENVELOPE_TTL_SECONDS * 1000,
    heartbeatMs: e.CONFIG_HEARTBEAT_SECONDS * 1000,
    restoreMaxVersionGap: e.RESTORE_MAX_VERSION_GAP,
  };
}

function devKeysWarning({ path, generated, variables }: DevKeysUse): string {
  return (
    `Using development keys from ${path} for ${variables.join(', ')}` +
    `${generated.length > 0 ? ` (generated now: ${generated.join(', ')})` : ''}. ` +
    'For real deployments set them explicitly (npm run keys -- generate); NODE_ENV=production refuses to start without them.'
  );
}
