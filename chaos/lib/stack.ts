import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatKeyList, generateBoxKeyPair, generateSigningKeyPair } from '@app/crypto';
import { type BrokerMode, type BrokerUser, type Mosquitto, until } from '@app/testing';
import { ManagerApi } from './api';
import { BusObserver } from './bus-observer';
import { Janitor } from './janitor';
import { ManagerNode } from './manager';
import { type BrokerUsers, startStackMosquitto } from './mosquitto';
import { Postgres } from './postgres';
import { WorkerNode } from './worker';

export const SERVICE = 'dedup-worker';
const WORKER_COUNT = 3;
const SIGNING_KEY_ID = 'cfg-chaos';
const HEAL_TIMEOUT_MS = 60_000;

/** What differs between the stacks of scenarios. */
export interface StackOptions {
  /** INSTANCE_LABELS of each worker, by position; unset: no worker has labels. */
  workerLabels?: readonly (string | undefined)[];
}

/** Options for waiting on the fleet. */
export interface FleetWait {
  signal: AbortSignal;
  timeoutMs: number;
}

/**
 * The whole system on loopback, every part a real process of the harness's own: a Postgres
 * cluster, mosquitto with the production configuration (or `open` for an attacker with write
 * access), config-manager, and three dedup-workers; plus an MQTT observer recording what crosses
 * the bus. Everything lives under one temp dir and is removed by `stop()` or the janitor.
 */
export class Stack {
  private constructor(
    readonly dir: string,
    readonly postgres: Postgres,
    readonly broker: Mosquitto,
    readonly manager: ManagerNode,
    readonly workers: readonly WorkerNode[],
    readonly observer: BusObserver,
    readonly api: ManagerApi,
    /** The manager's signing key: scenario 7 signs "another service's" envelope with it. */
    readonly signing: { kid: string; secretKey: Buffer },
    private readonly release: () => void,
  ) {}

  /** Starts everything and returns once every worker is online on the manager's version. */
  static async start(
    mode: BrokerMode,
    parent: Janitor,
    signal: AbortSignal,
    options: StackOptions = {},
  ): Promise<Stack> {
    const janitor = new Janitor();
    // Runs (and unregisters) the stack's own cleanup: at stop(), or by the parent at exit.
    const release = parent.add(() => janitor.runAll());
    const dir = mkdtempSync(join(tmpdir(), 'chaos-'));
    // Postgres and mosquitto run as their own users and must reach their directories.
    chmodSync(dir, 0o711);
    janitor.add(() => rmSync(dir, { recursive: true, force: true }));
    try {
      const stack = await Stack.build(dir, mode, janitor, release, options);
      await stack.heal(signal);
      return stack;
    } catch (error) {
      release();
      throw error;
    }
  }

  private static async build(
    dir: string,
    mode: BrokerMode,
    janitor: Janitor,
    release: () => void,
    options: StackOptions,
  ): Promise<Stack> {
    const instanceIds = Array.from({ length: WORKER_COUNT }, (_, i) => `chaos-${i + 1}`);
    const user = (username: string): BrokerUser => ({
      username,
      password: randomBytes(16).toString('hex'),
    });
    // One user per process, as in production: the broker uses the username as client id.
    const users: BrokerUsers = {
      manager: user('config-manager'),
      observer: user('config-manager/chaos-observer'),
      reader: user('config-manager/chaos-reader'),
      workers: instanceIds.map((id) => user(`${SERVICE}/${id}`)),
    };
    const signing = generateSigningKeyPair();
    const recipient = generateBoxKeyPair();
    const adminToken = randomBytes(24).toString('hex');

    const postgres = await Postgres.create(janitor);
    const brokerDir = join(dir, 'broker');
    mkdirSync(brokerDir);
    const broker = await startStackMosquitto(brokerDir, mode, users, janitor);

    const managerDir = join(dir, 'manager');
    mkdirSync(managerDir);
    const manager = await ManagerNode.create(
      {
        dir: managerDir,
        databaseUrl: postgres.url,
        mqttUrl: broker.url,
        mqttUsername: users.manager.username,
        mqttPassword: users.manager.password,
        signingKey: signing.secretKey.toString('base64'),
        signingKeyId: SIGNING_KEY_ID,
        masterKey: randomBytes(32).toString('base64'),
        recipientKeys: formatKeyList([{ id: SERVICE, key: recipient.publicKey }]),
        adminToken,
      },
      janitor,
    );
    await manager.start();

    const workerSetup = {
      mqttUrl: broker.url,
      trustedKeys: `${SIGNING_KEY_ID}:${signing.publicKey.toString('base64')}`,
      secretKey: recipient.secretKey.toString('base64'),
      lkgHmacKey: randomBytes(32).toString('base64'),
    };
    const workers = await Promise.all(
      instanceIds.map((id, i) =>
        WorkerNode.create(
          id,
          join(dir, `worker-${i + 1}`),
          workerSetup,
          users.workers[i],
          janitor,
          options.workerLabels?.[i],
        ),
      ),
    );
    const observer = await BusObserver.connect(broker.url, users.observer, users.reader);
    janitor.add(() => void observer.close());
    return new Stack(
      dir,
      postgres,
      broker,
      manager,
      workers,
      observer,
      new ManagerApi(manager.url, adminToken),
      { kid: SIGNING_KEY_ID, secretKey: signing.secretKey },
      release,
    );
  }

  /**
   * Starts whatever a run left stopped and waits until the manager is ready and every worker is
   * online on the current version, both by its own account and in the manager's instance view.
   */
  async heal(signal: AbortSignal): Promise<void> {
    if (!this.postgres.running) this.postgres.start();
    if (!this.broker.running) await this.broker.start();
    if (!this.manager.running) await this.manager.start();
    await Promise.all(this.workers.filter((w) => !w.running).map((w) => w.start()));
    await until('manager ready', async () => (await this.api.ready()).status === 200 || undefined, {
      timeoutMs: HEAL_TIMEOUT_MS,
      signal,
    });
    const { version } = (await this.api.config()).body;
    await this.fleetOn(version, { signal, timeoutMs: HEAL_TIMEOUT_MS });
    await until(
      `instance view: every worker online on v${version}`,
      async () => {
        const { body } = await this.api.instances();
        return (
          this.workers.every((w) =>
            body.some(
              (i) =>
                i.instanceId === w.instanceId &&
                i.status === 'online' &&
                i.appliedVersion === version,
            ),
          ) || undefined
        );
      },
      { timeoutMs: HEAL_TIMEOUT_MS, signal },
    );
  }

  /** Waits until every worker reports `version` as applied and says it is online. */
  async fleetOn(version: number, { signal, timeoutMs }: FleetWait): Promise<void> {
    let seen = '';
    await until(
      `every worker online on v${version}`,
      async () => {
        const views = await Promise.all(this.workers.map((w) => w.view()));
        seen = views
          .map((v, i) => `${this.workers[i].instanceId}=v${v.appliedVersion}/${v.status}`)
          .join(' ');
        return (
          views.every((v) => v.appliedVersion === version && v.status === 'online') || undefined
        );
      },
      { signal, timeoutMs, intervalMs: 20, describe: () => seen },
    );
  }

  /**
   * Every time a worker applied a version lower than one it had applied before: from the
   * workers' logs over all their restarts, and from their live health reports on the bus.
   */
  regressions(): string[] {
    return [...this.workers.flatMap((w) => w.regressions()), ...this.observer.regressions()];
  }

  /** The last lines of every process's output (for a failed run's report). */
  tails(): string {
    return [
      `--- config-manager\n${this.manager.tail()}`,
      ...this.workers.map((w) => `--- ${w.instanceId}\n${w.tail()}`),
    ].join('\n');
  }

  /** Kills every process and removes every file of the stack. */
  async stop(): Promise<void> {
    await this.observer.close();
    this.release();
  }
}
