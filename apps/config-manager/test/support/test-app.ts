import type { INestApplication } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { CapturedPinoLog } from '@app/testing';
import { createApp } from '../../src/create-app';
import { loadSettings, Settings } from '../../src/settings/settings';

/** Which store a test runs against. */
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

export const API_TOKENS = JSON.stringify([
  { name: 'alice', roles: ['admin'], token: TOKENS.admin },
  { name: 'reader', roles: ['config:read'], token: TOKENS.reader },
  { name: 'writer', roles: ['config:write'], token: TOKENS.writer },
  { name: 'keeper', roles: ['secrets:write'], token: TOKENS.secrets },
]);

/** A running manager on its own store (a fresh SQLite file or Postgres schema) and data dir. */
export interface TestManager {
  app: INestApplication;
  http: () => TestAgent;
  settings: Settings;
  logs: CapturedPinoLog;
  dataDir: string;
  /** Stops the app; keeps its store so a second manager can start on it. */
  stop(): Promise<void>;
  /** Stops the app and removes its store. */
  close(): Promise<void>;
}

export interface TestManagerOptions {
  store: StoreKind;
  env?: Record<string, string>;
  /** Reuse the store (and data dir) of an earlier manager. */
  reuse?: TestManager;
}

/** A unique, valid Postgres schema name for one test file. */
export function uniqueSchema(): string {
  return `cm_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

/** Base environment for a store: its own SQLite file or Postgres schema, fixed keys and tokens. */
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

/** Starts config-manager exactly as main.ts does, but in-process and on a random port. */
export async function startManager(options: TestManagerOptions): Promise<TestManager> {
  const dataDir = options.reuse?.dataDir ?? mkdtempSync(join(tmpdir(), 'cm-test-'));
  const env = {
    ...(options.reuse ? envOf(options.reuse) : storeEnv(options.store, dataDir)),
    ...options.env,
  };
  const logs = new CapturedPinoLog();
  const settings = loadSettings(env, { warn: (m) => logs.warn(m) });
  const app = await createApp(settings, { logDestination: logs });
  await app.listen(0, '127.0.0.1');
  const server = app.getHttpServer() as Parameters<typeof request>[0];
  const manager: TestManager = {
    app,
    http: () => request(server),
    settings,
    logs,
    dataDir,
    stop: () => app.close(),
    close: async () => {
      await app.close();
      await dropStore(settings);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  envs.set(manager, env);
  return manager;
}

const envs = new WeakMap<TestManager, Record<string, string>>();

function envOf(manager: TestManager): Record<string, string> {
  const env = envs.get(manager);
  if (!env) throw new Error('unknown manager');
  return env;
}

async function dropStore(settings: Settings): Promise<void> {
  if (settings.database.type !== 'postgres' || !settings.database.schema) return;
  const client = new Client({ connectionString: settings.database.url });
  try {
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${settings.database.schema}" CASCADE`);
  } catch {
    // The cluster may be gone already (outage tests); nothing to clean then.
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Authorization header for a token. */
export function bearer(token: string): { Authorization: string } {
  return { Authorization: `Bearer ${token}` };
}
