import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type BrokerMode,
  type BrokerUser,
  Mosquitto,
  writeProductionMosquittoConfig,
} from '@app/testing';
import type { Janitor } from './janitor';

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
  /** The second manager of a bridged stack (`config-manager/<replica>`). */
  replica?: BrokerUser;
  /** `mqtt-bridge`, the user the bridge of a bridged stack logs in with on the other broker. */
  bridge?: BrokerUser;
}

/** A bridge from the broker being configured to another one (ops/README.md, scale-out shape). */
export interface BridgeSpec {
  /** The connection's name (its client id on the other broker is the bridge user's name). */
  name: string;
  /** host:port of the other broker. */
  address: string;
  /** The `mqtt-bridge` user of the other broker. */
  user: BrokerUser;
}

/**
 * The mosquitto bridge configuration the harness runs and ops/README.md documents ("Supported
 * scale-out shape"), for the one broker of a pair that bridges (never both: a `both` bridge on
 * each side would loop every message). `cleansession true`: after a partition both sides send
 * each other their retained messages again (so the side that missed writes gets them);
 * `try_private`: the other mosquitto knows the connection is a bridge, so it does not echo
 * messages back and keeps their retain flag; `restart_timeout 1 2`: retry every 1 to 2 s (the
 * constant form, `restart_timeout 1`, waited about 6 s on mosquitto 2.0.11); no notifications
 * (the bridge user may only write system/#).
 */
export function bridgeConfig({ name, address, user }: BridgeSpec): string[] {
  return [
    `connection ${name}`,
    `address ${address}`,
    'bridge_protocol_version mqttv311',
    'try_private true',
    `remote_username ${user.username}`,
    `remote_password ${user.password}`,
    'topic system/# both 1',
    'cleansession true',
    'restart_timeout 1 2',
    'notifications false',
  ];
}

/**
 * The stack's mosquitto in `dir` (which must exist), on a free loopback port, running the
 * repository's docker/mosquitto/mosquitto.conf with its ACL and a password file built by
 * ops/mosquitto-passwords.sh; only the listener and the file paths are rewritten. In `open` mode
 * the same file without authentication and ACL (an attacker with write access). Persistence
 * stays on as in production, the broker can be killed and started again on the same port, its
 * output goes to `dir`/mosquitto.log, and the janitor kills it if the harness ends. With
 * `bridge`, it also bridges system/# both ways to another broker (bridgeConfig).
 */
export async function startStackMosquitto(
  dir: string,
  mode: BrokerMode,
  users: BrokerUsers,
  janitor: Janitor,
  bridge?: BridgeSpec,
): Promise<Mosquitto> {
  const broker = await Mosquitto.start({
    dir,
    logFile: join(dir, 'mosquitto.log'),
    configure: (configDir, port) => {
      writeProductionMosquittoConfig(
        configDir,
        port,
        [
          users.manager,
          users.observer,
          users.reader,
          ...users.workers,
          ...(users.replica ? [users.replica] : []),
          ...(users.bridge ? [users.bridge] : []),
        ],
        mode,
      );
      if (bridge) {
        appendFileSync(join(configDir, 'mosquitto.conf'), `\n${bridgeConfig(bridge).join('\n')}\n`);
      }
    },
  });
  janitor.add(() => broker.abort());
  return broker;
}
