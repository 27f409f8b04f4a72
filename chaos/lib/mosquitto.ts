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
}

/**
 * The stack's mosquitto in `dir` (which must exist), on a free loopback port, running the
 * repository's docker/mosquitto/mosquitto.conf with its ACL and a password file built by
 * ops/mosquitto-passwords.sh; only the listener and the file paths are rewritten. In `open` mode
 * the same file without authentication and ACL (an attacker with write access). Persistence
 * stays on as in production, the broker can be killed and started again on the same port, its
 * output goes to `dir`/mosquitto.log, and the janitor kills it if the harness ends.
 */
export async function startStackMosquitto(
  dir: string,
  mode: BrokerMode,
  users: BrokerUsers,
  janitor: Janitor,
): Promise<Mosquitto> {
  const broker = await Mosquitto.start({
    dir,
    logFile: join(dir, 'mosquitto.log'),
    configure: (configDir, port) =>
      writeProductionMosquittoConfig(
        configDir,
        port,
        [users.manager, users.observer, users.reader, ...users.workers],
        mode,
      ),
  });
  janitor.add(() => broker.abort());
  return broker;
}
