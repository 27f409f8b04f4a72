import { join } from 'node:path';
import { accepts, freePort, until } from '@app/testing';
import { Child } from './child';
import type { Janitor } from './janitor';
import {
  type BrokerMode,
  type BrokerUser,
  writeProductionMosquittoConfig,
} from '../../apps/config-manager/test/support/production-mosquitto';

export type {
  BrokerMode,
  BrokerUser,
} from '../../apps/config-manager/test/support/production-mosquitto';

/**
 * Broker users of the stack, one per process or connection open at the same time (the broker
 * uses the username as client id); the ACL gives each exactly its topics.
 */
export interface BrokerUsers {
  /** `config-manager`. */
  manager: BrokerUser;
  /** Manager replica users (`config-manager/<replica>`) for the observer and its reader. */
  observer: BrokerUser;
  reader: BrokerUser;
  /** One `<service>/<instanceId>` user per worker. */
  workers: readonly BrokerUser[];
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
    writeProductionMosquittoConfig(
      this.dir,
      this.port,
      [users.manager, users.observer, users.reader, ...users.workers],
      mode,
    );
  }
}
