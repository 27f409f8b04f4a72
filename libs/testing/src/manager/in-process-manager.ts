import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import type { DestinationStream } from 'pino';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { CapturedPinoLog } from '../logs/captured-logs';
import { ManagerApi } from './manager-api';
import { type StoreKind, storeEnv, TOKENS } from './manager-env';

/** What the harness reads of config-manager's settings: where its store is, to drop it. */
export interface StoreSettings {
  database: { type: 'sqlite' } | { type: 'postgres'; url: string; schema?: string };
}

/**
 * config-manager's two boot steps, as its main.ts runs them (settings from the environment, then
 * the app); passed in by the tests, as a lib does not import an app.
 */
export interface ManagerBoot<S extends StoreSettings> {
  loadSettings(env: Record<string, string>, warn: { warn(message: string): void }): S;
  createApp(settings: S, options: { logDestination: DestinationStream }): Promise<INestApplication>;
}

/** A running manager on its own store (a fresh SQLite file or Postgres schema) and data dir. */
export interface InProcessManager<S extends StoreSettings = StoreSettings> {
  app: INestApplication;
  /** The REST API, typed, as the admin of TOKENS (`api.as(token)` for another). */
  api: ManagerApi;
  /** supertest against the app, for raw requests (malformed bodies, raw bytes, odd headers). */
  http: () => TestAgent;
  settings: S;
  logs: CapturedPinoLog;
  dataDir: string;
  /** Stops the app; keeps its store so a second manager can start on it. */
  stop(): Promise<void>;
  /** Stops the app and removes its store. */
  close(): Promise<void>;
}

/** Where a manager under test runs. */
export interface InProcessManagerOptions<S extends StoreSettings> {
  store: StoreKind;
  /** Added to (or overriding) the store's environment. */
  env?: Record<string, string>;
  /** Reuse the store (and data dir, and environment) of an earlier manager. */
  reuse?: InProcessManager<S>;
}

/** Starts config-manager exactly as main.ts does, but in this process and on a random port. */
export async function startInProcessManager<S extends StoreSettings>(
  boot: ManagerBoot<S>,
  options: InProcessManagerOptions<S>,
): Promise<InProcessManager<S>> {
  const dataDir = options.reuse?.dataDir ?? mkdtempSync(join(tmpdir(), 'cm-test-'));
  const env = {
    ...(options.reuse ? envOf(options.reuse) : storeEnv(options.store, dataDir)),
    ...options.env,
  };
  const logs = new CapturedPinoLog();
  const settings = boot.loadSettings(env, { warn: (m) => logs.warn(m) });
  const app = await boot.createApp(settings, { logDestination: logs });
  await app.listen(0, '127.0.0.1');
  const server = app.getHttpServer() as Parameters<typeof request>[0];
  const http = () => request(server);
  const manager: InProcessManager<S> = {
    app,
    api: new ManagerApi(http, TOKENS.admin),
    http,
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

const envs = new WeakMap<InProcessManager<StoreSettings>, Record<string, string>>();

function envOf(manager: InProcessManager<StoreSettings>): Record<string, string> {
  const env = envs.get(manager);
  if (!env) throw new Error('unknown manager');
  return env;
}

async function dropStore(settings: StoreSettings): Promise<void> {
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
