import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..', '..', '..');

/** Passwords of the broker users the ACL knows (config-manager and dedup-worker). */
export interface BrokerPasswords {
  manager: string;
  worker: string;
}

/** `acl`: the production configuration; `open`: anyone may connect and write anything. */
export type BrokerMode = 'acl' | 'open';

/**
 * Writes into `dir` the repository's docker/mosquitto configuration for a broker on
 * 127.0.0.1:`port`: mosquitto.conf with only the listener and file paths rewritten, the ACL, and
 * a password file made by ops/mosquitto-passwords.sh. `open` also drops authentication and the
 * ACL (an attacker with write access). Returns the written mosquitto.conf text.
 */
export function writeProductionMosquittoConfig(
  dir: string,
  port: number,
  passwords: BrokerPasswords,
  mode: BrokerMode = 'acl',
): string {
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir);
  const production = readFileSync(join(ROOT, 'docker/mosquitto/mosquitto.conf'), 'utf8');
  const conf = rewriteConf(production, port, dir, mode);
  writeFileSync(join(dir, 'mosquitto.conf'), conf);
  writeFileSync(join(dir, 'acl'), readFileSync(join(ROOT, 'docker/mosquitto/acl')));
  // Run as root, mosquitto drops to its `mosquitto` user before reading the password file and
  // writing its persistence file, as the eclipse-mosquitto image runs as uid 1883.
  const owner = process.getuid?.() === 0 ? mosquittoUser() : undefined;
  execFileSync('bash', [join(ROOT, 'ops/mosquitto-passwords.sh'), join(dir, 'passwords')], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      MQTT_ENV_FILE: join(dir, 'no-such.env'),
      MQTT_MANAGER_PASSWORD: passwords.manager,
      MQTT_DEDUP_WORKER_PASSWORD: passwords.worker,
      ...(owner ? { MOSQUITTO_UID: String(owner.uid), MOSQUITTO_GID: String(owner.gid) } : {}),
    },
    stdio: 'pipe',
  });
  if (owner) {
    for (const path of [dir, dataDir, join(dir, 'acl'), join(dir, 'mosquitto.conf')]) {
      chownSync(path, owner.uid, owner.gid);
    }
  }
  return conf;
}

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
  // The rewrite must have hit: no production path or port may be left in the copy.
  const expected = mode === 'open' ? /^allow_anonymous true$/m : /^acl_file /m;
  if (/\/mosquitto\/|^listener 1883$/m.test(conf) || !expected.test(conf)) {
    throw new Error(
      'docker/mosquitto/mosquitto.conf changed shape: update test/support/production-mosquitto.ts',
    );
  }
  return conf;
}

function mosquittoUser(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'mosquitto']).toString().trim());
  return { uid: id('-u'), gid: id('-g') };
}
