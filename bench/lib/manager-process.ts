import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKeyPair } from '@app/crypto';
import { freePort, REPO_ROOT } from '@app/testing';
import { appEntry, sourceEntry } from './hosts';

export const BENCH_TOKEN = 'bench-admin-token-0123456789';

/** A config-manager running in its own process (so load generation does not share its event loop). */
export interface ManagerProcess {
  url: string;
  /** From spawn to the first 200 from the polled path (ms). */
  startMs: number;
  dataDir: string;
  dbFile: string;
  stop(): Promise<void>;
}

/** How the manager process runs, besides its environment. */
export interface ManagerProcessOptions {
  /** Run the build's bundle (appEntry: dist/bundle, `npm run build` first) instead of the source. */
  dist?: boolean;
  /** An existing DATA_DIR (and its config.db) to start on, kept on stop; default: a fresh one, removed on stop. */
  dataDir?: string;
  /** The path polled until it answers 200 (default /health). */
  readyPath?: string;
  /** How often that path is polled (ms, default 100). */
  pollMs?: number;
}

/** Starts the manager (from source unless `options.dist`) on a SQLite file and waits until it answers. */
export async function startManagerProcess(
  env: Record<string, string> = {},
  nodeArgs: string[] = [],
  options: ManagerProcessOptions = {},
): Promise<ManagerProcess> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'cm-bench-'));
  const port = await freePort();
  const dbFile = join(dataDir, 'config.db');
  const entry = options.dist ? appEntry('config-manager').args : sourceEntry('config-manager');
  const spawned = performance.now();
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, ...entry], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      // Not production: some benches use the embedded broker, which production refuses.
      NODE_ENV: 'test',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      DATABASE_URL: `sqlite:${dbFile}`,
      CONFIG_MASTER_KEY: randomBytes(32).toString('base64'),
      API_TOKENS: JSON.stringify([{ name: 'bench', roles: ['admin'], token: BENCH_TOKEN }]),
      LOG_LEVEL: 'warn',
      // The bench drives the manager from one address, far above any sane per-client limit.
      RATE_LIMIT_PER_MINUTE: '1000000',
      CONFIG_SIGNING_KEY: generateSigningKeyPair().secretKey.toString('base64'),
      CONFIG_SIGNING_KEY_ID: 'cfg-bench',
      MQTT_EMBEDDED_PORT: String(await freePort()),
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30000;
  for (;;) {
    try {
      if ((await fetch(`${url}${options.readyPath ?? '/health'}`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('manager did not start');
    await new Promise((r) => setTimeout(r, options.pollMs ?? 100));
  }
  const startMs = performance.now() - spawned;
  return {
    url,
    startMs,
    dataDir,
    dbFile,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
