import { join } from 'node:path';
import { freePort } from '@app/testing';
import { Child, untilHealthy } from './child';
import type { Janitor } from './janitor';
import { ROOT } from './paths';

const START_TIMEOUT_MS = 60_000;
/** How many output lines of a process's life are kept in memory (the rest is in its log file). */
const KEPT_LINES = 10_000;

/** What a config-manager of the stack is started with (see the README's environment table). */
export interface ManagerSetup {
  dir: string;
  databaseUrl: string;
  mqttUrl: string;
  mqttUsername: string;
  mqttPassword: string;
  signingKey: string;
  signingKeyId: string;
  masterKey: string;
  recipientKeys: string;
  adminToken: string;
  /** MQTT_CLIENT_ID (the broker uses the username anyway); unset: the manager's default. */
  clientId?: string;
  /** Extra environment on top of the stack's, at every start (CONFIG_HEARTBEAT_SECONDS). */
  env?: Readonly<Record<string, string>>;
}

/**
 * config-manager as a child process, from source (like bench/lib/manager-process.ts), on a
 * fixed free port so a restarted manager answers at the same URL.
 */
export class ManagerNode {
  private child: Child | undefined;
  /** The first output lines of the current (or last) process (its boot among them). */
  private lines: string[] = [];

  private constructor(
    private readonly setup: ManagerSetup,
    readonly port: number,
    private readonly janitor: Janitor,
  ) {}

  static async create(setup: ManagerSetup, janitor: Janitor): Promise<ManagerNode> {
    return new ManagerNode(setup, await freePort(), janitor);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child?.alive ?? false;
  }

  /** Resolves when the current process exits (at once if none runs). */
  get exited(): Promise<number | null> {
    return this.child?.exited ?? Promise.resolve(null);
  }

  /** Starts the manager (with `extraEnv` on top of the stack's) and waits until /health answers. */
  async start(extraEnv: Record<string, string> = {}): Promise<void> {
    const lines: string[] = [];
    this.lines = lines;
    const child = Child.start(
      {
        command: process.execPath,
        args: ['-r', '@swc-node/register', join(ROOT, 'apps/config-manager/src/main.ts')],
        cwd: ROOT,
        env: { ...process.env, ...this.environment(), ...extraEnv },
        logFile: join(this.setup.dir, 'manager.log'),
        onLine: (line) => {
          if (lines.length < KEPT_LINES) lines.push(line);
        },
      },
      this.janitor,
    );
    this.child = child;
    await untilHealthy(child, 'config-manager', `${this.url}/health`, START_TIMEOUT_MS);
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    await this.child?.kill(signal);
  }

  async stop(): Promise<void> {
    await this.child?.stop();
  }

  /** The first output lines (up to 10,000) of the current or last process since it started. */
  output(): readonly string[] {
    return this.lines;
  }

  tail(): string {
    return this.child?.tail() ?? '';
  }

  /** DATA_DIR of the manager (snapshot.json lives there). */
  get dataDir(): string {
    return this.setup.dir;
  }

  /**
   * The manager's own environment, for the operator CLIs (`npm run backup` / `restore` read
   * DATABASE_URL and DATA_DIR as the manager does).
   */
  environment(): Record<string, string> {
    const s = this.setup;
    return {
      // Not production: the chaos hook (CHAOS_EXIT_AFTER_COMMIT) is refused there.
      NODE_ENV: 'test',
      PORT: String(this.port),
      HOST: '127.0.0.1',
      DATA_DIR: s.dir,
      DATABASE_URL: s.databaseUrl,
      MQTT_URL: s.mqttUrl,
      MQTT_USERNAME: s.mqttUsername,
      MQTT_PASSWORD: s.mqttPassword,
      ...(s.clientId === undefined ? {} : { MQTT_CLIENT_ID: s.clientId }),
      CONFIG_SIGNING_KEY: s.signingKey,
      CONFIG_SIGNING_KEY_ID: s.signingKeyId,
      CONFIG_MASTER_KEY: s.masterKey,
      SERVICE_RECIPIENT_KEYS: s.recipientKeys,
      API_TOKENS: JSON.stringify([{ name: 'chaos', roles: ['admin'], token: s.adminToken }]),
      CONFIG_DEFAULTS_DIR: join(s.dir, 'defaults'),
      // The harness drives the manager from one address, far above any sane per-client limit.
      RATE_LIMIT_PER_MINUTE: '1000000',
      // Notice a stopped database quickly (scenario 3).
      DB_PROBE_INTERVAL_MS: '200',
      LOG_LEVEL: 'log',
      ...s.env,
    };
  }
}
