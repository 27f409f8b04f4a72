import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatKeyList, generateBoxKeyPair, generateSigningKeyPair } from '@app/crypto';
import {
  BRIDGE_USERNAME,
  type BrokerMode,
  type BrokerUser,
  type Mosquitto,
  until,
} from '@app/testing';
import { ManagerApi } from './api';
import { BusObserver } from './bus-observer';
import { Janitor } from './janitor';
import { ManagerNode } from './manager';
import { type BrokerUsers, startStackMosquitto } from './mosquitto';
import { Postgres } from './postgres';
import { TcpLink } from './tcp-link';
import { WorkerNode } from './worker';

export const SERVICE = 'dedup-worker';
const WORKER_COUNT = 3;
/** A bridged stack's workers: the first half on the first broker, the rest on the second. */
const BRIDGED_WORKER_COUNT = 4;
const SIGNING_KEY_ID = 'cfg-chaos';
const HEAL_TIMEOUT_MS = 60_000;

/** What differs between the stacks of scenarios. */
export interface StackOptions {
  /** INSTANCE_LABELS of each worker, by position; unset: no worker has labels. */
  workerLabels?: readonly (string | undefined)[];
  /**
   * Two config-managers on the one Postgres, each on its own mosquitto, the first broker
   * bridged to the second (system/# both ways) through a link the harness can cut; four
   * workers, two on each broker.
   */
  bridged?: boolean;
  /**
   * A bridged stack without manager B (false): manager A on broker 1 is the only writer, broker 2
   * and its workers get everything through the bridge (scenario 12). Unset: both managers.
   */
  replicaManager?: boolean;
  /** Extra environment of every config-manager of the stack (CONFIG_HEARTBEAT_SECONDS). */
  managerEnv?: Readonly<Record<string, string>>;
  /** Extra environment of every worker of the stack (CONFIG_MAX_STALENESS). */
  workerEnv?: Readonly<Record<string, string>>;
}

/** The second half of a bridged stack: its broker, the link to it, its manager and workers. */
export interface ReplicaSite {
  readonly broker: Mosquitto;
  /** The network between the brokers: the first broker's bridge reaches this one through it. */
  readonly link: TcpLink;
  /**
   * Manager B: same database, keys and admin token as the first, its own broker user; absent
   * when the stack was started with `replicaManager: false`.
   */
  readonly manager?: ManagerNode;
  readonly api?: ManagerApi;
  /** Records this broker's bus (the first observer only sees it while the bridge is up). */
  readonly observer: BusObserver;
  /** The workers on this broker (the stack's `workers` holds them too, after the first ones). */
  readonly workers: readonly WorkerNode[];
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
    /** The second manager, broker and workers of a bridged stack. */
    readonly replica?: ReplicaSite,
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
    const count = options.bridged ? BRIDGED_WORKER_COUNT : WORKER_COUNT;
    const instanceIds = Array.from({ length: count }, (_, i) => `chaos-${i + 1}`);
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
      ...(options.bridged
        ? { replica: user('config-manager/replica-b'), bridge: user(BRIDGE_USERNAME) }
        : {}),
    };
    const signing = generateSigningKeyPair();
    const recipient = generateBoxKeyPair();
    const adminToken = randomBytes(24).toString('hex');

    const postgres = await Postgres.create(janitor);
    const subdir = (name: string) => {
      const path = join(dir, name);
      mkdirSync(path);
      return path;
    };
    // A bridged stack's second broker comes first: the first one's bridge connects to it.
    const second = options.bridged
      ? await startStackMosquitto(subdir('broker-2'), mode, users, janitor)
      : undefined;
    const link = second ? await TcpLink.open(second.port, janitor) : undefined;
    const broker = await startStackMosquitto(
      subdir('broker'),
      mode,
      users,
      janitor,
      link && users.bridge
        ? { name: 'chaos-bridge', address: `127.0.0.1:${link.port}`, user: users.bridge }
        : undefined,
    );

    // Every manager of the stack shares the database, the keys and the admin token.
    const shared = {
      databaseUrl: postgres.url,
      signingKey: signing.secretKey.toString('base64'),
      signingKeyId: SIGNING_KEY_ID,
      masterKey: randomBytes(32).toString('base64'),
      recipientKeys: formatKeyList([{ id: SERVICE, key: recipient.publicKey }]),
      adminToken,
      ...(options.managerEnv ? { env: options.managerEnv } : {}),
    };
    const manager = await ManagerNode.create(
      {
        ...shared,
        dir: subdir('manager'),
        mqttUrl: broker.url,
        mqttUsername: users.manager.username,
        mqttPassword: users.manager.password,
        ...(second ? { clientId: 'config-manager-a' } : {}),
      },
      janitor,
    );
    await manager.start();
    const secondManager =
      second && users.replica && options.replicaManager !== false
        ? await ManagerNode.create(
            {
              ...shared,
              dir: subdir('manager-2'),
              mqttUrl: second.url,
              mqttUsername: users.replica.username,
              mqttPassword: users.replica.password,
              clientId: 'config-manager-b',
            },
            janitor,
          )
        : undefined;
    // One after the other: the first has run the migrations and seeded the services.
    await secondManager?.start();

    const workerSetup = {
      trustedKeys: `${SIGNING_KEY_ID}:${signing.publicKey.toString('base64')}`,
      secretKey: recipient.secretKey.toString('base64'),
      lkgHmacKey: randomBytes(32).toString('base64'),
      ...(options.workerEnv ? { env: options.workerEnv } : {}),
    };
    const onSecond = (i: number) => second !== undefined && i >= count / 2;
    const workers = await Promise.all(
      instanceIds.map((id, i) =>
        WorkerNode.create(
          id,
          join(dir, `worker-${i + 1}`),
          { ...workerSetup, mqttUrl: (onSecond(i) && second ? second : broker).url },
          users.workers[i],
          janitor,
          options.workerLabels?.[i],
        ),
      ),
    );
    const observer = await BusObserver.connect(broker.url, users.observer, users.reader);
    janitor.add(() => void observer.close());
    let replica: ReplicaSite | undefined;
    if (second && link) {
      // Another broker: the same observer users do not take over the first ones' sessions.
      const secondObserver = await BusObserver.connect(second.url, users.observer, users.reader);
      janitor.add(() => void secondObserver.close());
      replica = {
        broker: second,
        link,
        ...(secondManager
          ? { manager: secondManager, api: new ManagerApi(secondManager.url, adminToken) }
          : {}),
        observer: secondObserver,
        workers: workers.filter((_, i) => onSecond(i)),
      };
    }
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
      replica,
    );
  }

  /**
   * Starts whatever a run left stopped and waits until the manager is ready and every worker is
   * online on the current version, both by its own account and in the manager's instance view.
   */
  async heal(signal: AbortSignal): Promise<void> {
    if (!this.postgres.running) this.postgres.start();
    const replica = this.replica;
    if (replica && !replica.broker.running) await replica.broker.start();
    if (replica && !replica.link.up) await replica.link.restore();
    if (!this.broker.running) await this.broker.start();
    if (!this.manager.running) await this.manager.start();
    if (replica?.manager && !replica.manager.running) await replica.manager.start();
    await Promise.all(this.workers.filter((w) => !w.running).map((w) => w.start()));
    const apis = [this.api, ...(replica?.api ? [replica.api] : [])];
    for (const [i, api] of apis.entries()) {
      await until(
        `manager ${i + 1} ready`,
        async () => (await api.ready()).status === 200 || undefined,
        {
          timeoutMs: HEAL_TIMEOUT_MS,
          signal,
        },
      );
    }
    const { version } = (await this.api.config()).body;
    await this.fleetOn(version, { signal, timeoutMs: HEAL_TIMEOUT_MS });
    await this.instanceViewsOn(version, signal);
  }

  /** Waits until every manager's instance view shows every worker online on `version`. */
  async instanceViewsOn(
    version: number,
    signal: AbortSignal,
    timeoutMs = HEAL_TIMEOUT_MS,
  ): Promise<void> {
    const apis = [this.api, ...(this.replica?.api ? [this.replica.api] : [])];
    for (const [i, api] of apis.entries()) {
      await this.instanceViewOn(api, i + 1, version, signal, timeoutMs);
    }
  }

  private async instanceViewOn(
    api: ManagerApi,
    manager: number,
    version: number,
    signal: AbortSignal,
    timeoutMs: number,
  ): Promise<void> {
    let seen = '';
    await until(
      `manager ${manager}'s instance view: every worker online on v${version}`,
      async () => {
        const { body } = await api.instances();
        seen = body.map((i) => `${i.instanceId}=v${i.appliedVersion}/${i.status}`).join(' ');
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
      { timeoutMs, signal, describe: () => seen },
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
    return [
      ...this.workers.flatMap((w) => w.regressions()),
      ...this.observer.regressions(),
      ...(this.replica?.observer.regressions() ?? []),
    ];
  }

  /** The last lines of every process's output (for a failed run's report). */
  tails(): string {
    return [
      `--- config-manager\n${this.manager.tail()}`,
      ...(this.replica?.manager ? [`--- config-manager B\n${this.replica.manager.tail()}`] : []),
      ...this.workers.map((w) => `--- ${w.instanceId}\n${w.tail()}`),
    ].join('\n');
  }

  /** Kills every process and removes every file of the stack. */
  async stop(): Promise<void> {
    await this.observer.close();
    await this.replica?.observer.close();
    this.release();
  }
}
