import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Child } from './child';
import type { Janitor } from './janitor';
import { accepts, freePort } from './net';
import { until } from './poll';
import { ROOT } from './paths';

/** `acl`: the production configuration; `open`: anyone may connect and write anything. */
export type BrokerMode = 'acl' | 'open';

/** Broker users of the stack (the ACL gives each exactly its topics). */
export interface BrokerUsers {
  manager: { username: string; password: string };
  worker: { username: string; password: string };
}

const START_TIMEOUT_MS = 10_000;

/**
 * A mosquitto of the harness's own on a free loopback port, running the repository's
 * docker/mosquitto/mosquitto.conf with its ACL and a password file built by
 * ops/mosquitto-passwords.sh; only the listener and the file paths are rewritten. In `open` mode
 * the same file without authentication and ACL (an attacker with write access). Persistence
 * stays on as in production, and the broker can be killed and started again on the same port.
 */
export class Mosquitto {
  private child: Child | undefined;

  private constructor(
    private readonly dir: string,
    readonly port: number,
    private readonly janitor: Janitor,
  ) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child?.alive ?? false;
  }

  /** Writes the configuration into `dir` (which must exist) and starts the broker. */
  static async create(
    dir: string,
    mode: BrokerMode,
    users: BrokerUsers,
    janitor: Janitor,
  ): Promise<Mosquitto> {
    const broker = new Mosquitto(dir, await freePort(), janitor);
    broker.prepare(mode, users);
    await broker.start();
    return broker;
  }

  async start(): Promise<void> {
    if (this.running) return;
    const child = Child.start(
      {
        command: 'mosquitto',
        args: ['-c', join(this.dir, 'mosquitto.conf')],
        logFile: join(this.dir, 'mosquitto.log'),
      },
      this.janitor,
    );
    this.child = child;
    // Ready once the listener accepts connections (its stdout is block-buffered on a pipe).
    await until(
      `mosquitto on port ${this.port}`,
      async () => {
        if (!child.alive) throw new Error(`mosquitto exited:\n${child.tail()}`);
        return (await accepts(this.port)) || undefined;
      },
      { timeoutMs: START_TIMEOUT_MS, intervalMs: 25 },
    );
  }

  /** Kills the broker with `signal` (SIGKILL: no persistence save, no wills) and waits for it. */
  async kill(signal: NodeJS.Signals): Promise<void> {
    await this.child?.kill(signal);
  }

  async stop(): Promise<void> {
    await this.child?.stop();
  }

  private prepare(mode: BrokerMode, users: BrokerUsers): void {
    const dataDir = join(this.dir, 'data');
    mkdirSync(dataDir);
    const production = readFileSync(join(ROOT, 'docker/mosquitto/mosquitto.conf'), 'utf8');
    writeFileSync(
      join(this.dir, 'mosquitto.conf'),
      rewriteConf(production, this.port, this.dir, mode),
    );
    writeFileSync(join(this.dir, 'acl'), readFileSync(join(ROOT, 'docker/mosquitto/acl')));
    // Run as root, mosquitto drops to its `mosquitto` user before reading the password file and
    // writing its persistence file, as the eclipse-mosquitto image runs as uid 1883.
    const owner = process.getuid?.() === 0 ? mosquittoUser() : undefined;
    execFileSync('bash', [join(ROOT, 'ops/mosquitto-passwords.sh'), join(this.dir, 'passwords')], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        MQTT_ENV_FILE: join(this.dir, 'no-such.env'),
        MQTT_MANAGER_PASSWORD: users.manager.password,
        MQTT_DEDUP_WORKER_PASSWORD: users.worker.password,
        ...(owner ? { MOSQUITTO_UID: String(owner.uid), MOSQUITTO_GID: String(owner.gid) } : {}),
      },
      stdio: 'pipe',
    });
    if (owner) {
      for (const path of [
        this.dir,
        dataDir,
        join(this.dir, 'acl'),
        join(this.dir, 'mosquitto.conf'),
      ]) {
        chownSync(path, owner.uid, owner.gid);
      }
    }
  }
}

/** The production file with this broker's port and paths; `open` also drops authentication and ACL. */
function rewriteConf(production: string, port: number, dir: string, mode: BrokerMode): string {
  let conf = production
    .replace(/^listener 1883$/m, `listener ${port} 127.0.0.1`)
    .replace(/\/mosquitto\/config\//g, `${dir}/`)
    .replace(/\/mosquitto\/data\//g, `${join(dir, 'data')}/`);
  if (mode === 'open') {
    conf = conf
      .replace(/^allow_anonymous false$/m, 'allow_anonymous true')
      .replace(/^(password_file|acl_file) .*$/gm, '');
  }
  // The rewrite must have hit: no production path or port may be left in the harness's copy.
  const expected = mode === 'open' ? /^allow_anonymous true$/m : /^acl_file /m;
  if (/\/mosquitto\/|^listener 1883$/m.test(conf) || !expected.test(conf)) {
    throw new Error('docker/mosquitto/mosquitto.conf changed shape: update chaos/lib/mosquitto.ts');
  }
  return conf;
}

function mosquittoUser(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'mosquitto']).toString().trim());
  return { uid: id('-u'), gid: id('-g') };
}
