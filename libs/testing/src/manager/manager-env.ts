import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

/** Which store a manager under test runs on. */
export type StoreKind = 'sqlite' | 'postgres';

/** Postgres on this machine (CI makes sure it runs); override with TEST_POSTGRES_URL. */
export const TEST_POSTGRES_URL =
  process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** One token per role, named after the role. */
export const TOKENS = {
  admin: 'admin-token-0123456789abcdef',
  reader: 'reader-token-0123456789abcdef',
  writer: 'writer-token-0123456789abcdef',
  secrets: 'secrets-token-0123456789abcdef',
} as const;

/** API_TOKENS declaring TOKENS: `alice` is the admin. */
export const API_TOKENS = JSON.stringify([
  { name: 'alice', roles: ['admin'], token: TOKENS.admin },
  { name: 'reader', roles: ['config:read'], token: TOKENS.reader },
  { name: 'writer', roles: ['config:write'], token: TOKENS.writer },
  { name: 'keeper', roles: ['secrets:write'], token: TOKENS.secrets },
]);

/** Authorization header for a token. */
export function bearer(token: string): { Authorization: string } {
  return { Authorization: `Bearer ${token}` };
}

/** A unique, valid Postgres schema name for one test file. */
export function uniqueSchema(): string {
  return `cm_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

/**
 * config-manager's base environment for a store: its own SQLite file or Postgres schema, fresh
 * keys, TOKENS, and an embedded broker of its own.
 */
export function storeEnv(store: StoreKind, dataDir: string): Record<string, string> {
  return {
    NODE_ENV: 'test',
    DATA_DIR: dataDir,
    DATABASE_URL:
      store === 'sqlite'
        ? `sqlite:${join(dataDir, 'config.db')}`
        : `${TEST_POSTGRES_URL}?schema=${uniqueSchema()}`,
    CONFIG_MASTER_KEY: randomBytes(32).toString('base64'),
    API_TOKENS,
    CONFIG_DEFAULTS_DIR: join(dataDir, 'defaults'),
    DB_PROBE_INTERVAL_MS: '100',
    // Each manager gets its own embedded broker on a free port unless a test sets MQTT_URL.
    MQTT_EMBEDDED_PORT: '0',
  };
}
