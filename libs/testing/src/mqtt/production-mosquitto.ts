import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../repo-root';

/**
 * A broker user as ops/mosquitto-passwords.sh declares it: `config-manager`, a manager replica
 * `config-manager/<replica>`, a worker instance `<service>/<instanceId>`, or `mqtt-bridge`
 * (another broker's bridge).
 */
export interface BrokerUser {
  username: string;
  password: string;
}

const MANAGER = 'config-manager';
/** The user another broker's bridge logs in with (readwrite system/#). */
export const BRIDGE_USERNAME = 'mqtt-bridge';

/** `acl`: the production configuration; `open`: anyone may connect and write anything. */
export type BrokerMode = 'acl' | 'open';

/**
 * Writes into `dir` the repository's docker/mosquitto configuration for a broker on
 * 127.0.0.1:`port`: mosquitto.conf with only the listener and file paths rewritten, and the
 * password and ACL files ops/mosquitto-passwords.sh makes for `users` (which must include
 * `config-manager`). `open` also drops authentication, the ACL and use_username_as_clientid (an
 * attacker with write access, any client id). Returns the written mosquitto.conf text.
 */
export function writeProductionMosquittoConfig(
  dir: string,
  port: number,
  users: readonly BrokerUser[],
  mode: BrokerMode = 'acl',
): string {
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir);
  const production = readFileSync(join(REPO_ROOT, 'docker/mosquitto/mosquitto.conf'), 'utf8');
  const conf = rewriteConf(production, port, dir, mode);
  writeFileSync(join(dir, 'mosquitto.conf'), conf);
  // Run as root, mosquitto drops to its `mosquitto` user before reading its password and ACL
  // files and writing its persistence file, as the eclipse-mosquitto image runs as uid 1883.
  const owner = process.getuid?.() === 0 ? mosquittoUser() : undefined;
  runMosquittoPasswords([join(dir, 'passwords'), join(dir, 'acl')], {
    MQTT_ENV_FILE: join(dir, 'no-such.env'),
    ...brokerUserEnv(users),
    ...(owner ? { MOSQUITTO_UID: String(owner.uid), MOSQUITTO_GID: String(owner.gid) } : {}),
  });
  if (owner) {
    // (The script chowns the password and ACL files itself.)
    for (const path of [dir, dataDir, join(dir, 'mosquitto.conf')]) {
      chownSync(path, owner.uid, owner.gid);
    }
  }
  return conf;
}

/**
 * The ops/mosquitto-passwords.sh variables that declare `users` (the script's header has the
 * scheme): MQTT_MANAGER_PASSWORD, MQTT_MANAGER_REPLICAS with MQTT_MANAGER_PASSWORD_<REPLICA>,
 * MQTT_WORKER_USERS with MQTT_WORKER_PASSWORD_<SERVICE>__<INSTANCEID>, MQTT_BRIDGE_PASSWORD.
 */
export function brokerUserEnv(users: readonly BrokerUser[]): Record<string, string> {
  const env: Record<string, string> = {};
  const replicas: string[] = [];
  const workers: string[] = [];
  for (const { username, password } of users) {
    const slash = username.indexOf('/');
    const head = slash < 0 ? username : username.slice(0, slash);
    const tail = slash < 0 ? '' : username.slice(slash + 1);
    if (username === MANAGER) {
      env.MQTT_MANAGER_PASSWORD = password;
    } else if (username === BRIDGE_USERNAME) {
      env.MQTT_BRIDGE_PASSWORD = password;
    } else if (head === MANAGER) {
      replicas.push(tail);
      env[`MQTT_MANAGER_PASSWORD_${envPart(tail)}`] = password;
    } else {
      workers.push(username);
      env[`MQTT_WORKER_PASSWORD_${envPart(head)}__${envPart(tail)}`] = password;
    }
  }
  if (replicas.length > 0) env.MQTT_MANAGER_REPLICAS = replicas.join(',');
  if (workers.length > 0) env.MQTT_WORKER_USERS = workers.join(',');
  return env;
}

/**
 * Runs ops/mosquitto-passwords.sh with `args` and only `env` (plus PATH); throws with the
 * script's stderr when it refuses.
 */
export function runMosquittoPasswords(args: string[], env: Record<string, string>): void {
  try {
    execFileSync('bash', [join(REPO_ROOT, 'ops/mosquitto-passwords.sh'), ...args], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
      stdio: 'pipe',
      encoding: 'utf8',
    });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`ops/mosquitto-passwords.sh failed: ${stderr.trim()}`);
  }
}

/** A part of a username as the script's password variable names spell it. */
function envPart(part: string): string {
  return part.toUpperCase().replace(/[-._]/g, '_');
}

function rewriteConf(production: string, port: number, dir: string, mode: BrokerMode): string {
  let conf = production
    .replace(/^listener 1883$/m, `listener ${port} 127.0.0.1`)
    .replace(/\/mosquitto\/config\//g, `${dir}/`)
    .replace(/\/mosquitto\/data\//g, `${join(dir, 'data')}/`);
  if (mode === 'open') {
    conf = conf
      .replace(/^allow_anonymous false$/m, 'allow_anonymous true')
      .replace(/^(password_file|acl_file|use_username_as_clientid) .*$/gm, '');
  }
  // The rewrite must have hit: no production path or port may be left in the copy.
  const expected = mode === 'open' ? /^allow_anonymous true$/m : /^acl_file /m;
  if (/\/mosquitto\/|^listener 1883$/m.test(conf) || !expected.test(conf)) {
    throw new Error(
      'docker/mosquitto/mosquitto.conf changed shape: update libs/testing/src/mqtt/production-mosquitto.ts',
    );
  }
  return conf;
}

function mosquittoUser(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'mosquitto']).toString().trim());
  return { uid: id('-u'), gid: id('-g') };
}
