import { execFile, execFileSync } from 'node:child_process';
import {
  chownSync,
  copyFileSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type IClientOptions } from 'mqtt';
import { parse } from 'yaml';
import { boxPublicKeyOf, signingPublicKeyOf } from '@app/crypto';
import {
  bearer,
  Mosquitto,
  MqttProbe,
  startAedes,
  type TestBroker,
  writeProductionMosquittoConfig,
} from '@app/testing';
import { loadSettings } from '../src/settings/settings';
import { startManager, type TestManager } from './support/test-app';

const REPO_ROOT = resolve(__dirname, '..', '..', '..');

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `npm run ops:init -- --dir DIR`, as the operator runs it (from source). */
function opsInit(dir: string): Promise<CliResult> {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const [node, ...args] = pkg.scripts['ops:init'].split(' ');
  return new Promise((done) => {
    execFile(
      node,
      [...args, '--dir', dir],
      // The operator's shell may hold MQTT_* variables: the new file alone counts.
      {
        cwd: REPO_ROOT,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          MQTT_MANAGER_PASSWORD: 'from-the-shell',
          ...mosquittoOwner(),
        },
      },
      (error, stdout, stderr) =>
        done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Run as root, the broker reads its files as the `mosquitto` user. */
function mosquittoOwner(): Record<string, string> {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) => execFileSync('id', [flag, 'mosquitto']).toString().trim();
  return { MOSQUITTO_UID: id('-u'), MOSQUITTO_GID: id('-g') };
}

/** ops/.env as compose reads it: NAME=value lines. */
function readEnvFile(path: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (match) env[match[1]] = match[2];
  }
  return env;
}

/** The environment docker-compose gives a service of ops/compose.yml with `envFile`. */
function composeEnvironment(envFile: string, service: string): Record<string, string> {
  const out = execFileSync(
    'docker-compose',
    ['--env-file', envFile, '-f', join(REPO_ROOT, 'ops/compose.yml'), 'config'],
    { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } },
  );
  const config = parse(out) as {
    services: Record<string, { environment: Record<string, string> }>;
  };
  return config.services[service].environment;
}

describe('npm run ops:init', () => {
  let dir: string;
  let first: CliResult;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cm-ops-init-'));
    copyFileSync(join(REPO_ROOT, 'ops/.env.sample'), join(dir, '.env.sample'));
    first = await opsInit(dir);
    env = readEnvFile(join(dir, '.env'));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes .env with every value of the sample generated, mode 0600, and prints the token once', () => {
    expect(first).toMatchObject({ code: 0 });
    expect(statSync(join(dir, '.env')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'mosquitto-passwords')).mode & 0o777).toBe(0o600);
    const sample = readEnvFile(join(dir, '.env.sample'));
    expect(Object.keys(env)).toEqual(expect.arrayContaining(Object.keys(sample)));
    for (const [name, value] of Object.entries(env)) {
      expect(`${name}=${value}`).not.toMatch(/PLACEHOLDER|change-me|0{64}/i);
    }
    for (const name of [
      'CONFIG_MASTER_KEY',
      'CONFIG_SIGNING_KEY',
      'DEDUP_WORKER_CONFIG_SECRET_KEY',
      'POSTGRES_PASSWORD',
    ]) {
      expect(env[name]).not.toBe(sample[name]);
    }
    expect(env.POSTGRES_PASSWORD).toMatch(/^[0-9a-f]{48}$/); // URL-safe: it goes into DATABASE_URL
    // stdout: the token line only; the token itself is in no file.
    const lines = first.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const token = /^API token "ops" \(admin\): (\S+)$/.exec(lines[0])?.[1];
    expect(token).toBeDefined();
    for (const file of ['.env', 'mosquitto-passwords', 'mosquitto-acl']) {
      expect(readFileSync(join(dir, file), 'utf8')).not.toContain(token);
    }
    expect(first.stderr).not.toContain(token);
  });

  it('gives a .env that docker-compose accepts and the manager loads for production', () => {
    const managerEnv = composeEnvironment(join(dir, '.env'), 'config-manager');
    expect(managerEnv.NODE_ENV).toBe('production');
    const settings = loadSettings(managerEnv, { warn: () => undefined });
    expect(settings.production).toBe(true);
    expect(settings.database).toMatchObject({ type: 'postgres' });
    expect([...settings.recipientKeys.keys()]).toEqual(['dedup-worker']);
    expect(settings.apiTokens.map((t) => t.name)).toEqual(['ops']);
    const workerEnv = composeEnvironment(join(dir, '.env'), 'dedup-worker-1');
    expect(workerEnv.MQTT_PASSWORD).toBe(env.MQTT_WORKER_PASSWORD_DEDUP_WORKER__DEDUP_WORKER_1);
    // The pairs match: workers trust the manager's signing key and hold the secret half of the
    // key the manager seals their secrets to.
    expect(workerEnv.CONFIG_TRUSTED_KEYS).toBe(
      `${settings.signing.keyId}:${signingPublicKeyOf(Buffer.from(env.CONFIG_SIGNING_KEY, 'base64')).toString('base64')}`,
    );
    expect(boxPublicKeyOf(Buffer.from(workerEnv.CONFIG_SECRET_KEY, 'base64'))).toEqual(
      settings.recipientKeys.get('dedup-worker'),
    );
  });

  describe('with a manager on that environment', () => {
    let broker: TestBroker;
    let manager: TestManager | undefined;

    beforeAll(async () => {
      broker = await startAedes();
      const managerEnv = composeEnvironment(join(dir, '.env'), 'config-manager');
      const data = join(dir, 'manager-data');
      manager = await startManager({
        store: 'sqlite',
        env: {
          ...managerEnv,
          // The compose stack's Postgres and broker, replaced by a SQLite file and aedes.
          DATABASE_URL: `sqlite:${join(data, 'config.db')}`,
          DATA_DIR: data,
          MQTT_URL: broker.url,
        },
      });
    });

    afterAll(async () => {
      // Undefined when starting failed: that failure is the one to read.
      await manager?.close();
      await broker.stop();
    });

    it('authenticates the printed token as the admin "ops", and refuses another', async () => {
      const token = /: (\S+)$/.exec(first.stdout.trim())![1];
      const me = await manager!.http().get('/api/me').set(bearer(token)).expect(200);
      expect(me.body).toMatchObject({ name: 'ops', roles: expect.arrayContaining(['admin']) });
      await manager!
        .http()
        .get('/api/me')
        .set(bearer(`${token}x`))
        .expect(401);
    });
  });

  it('writes a password file and ACL that a real mosquitto accepts for every declared user', async () => {
    const broker = await Mosquitto.start({
      configure: (brokerDir, port) => {
        writeProductionMosquittoConfig(brokerDir, port, [
          { username: 'config-manager', password: 'replaced-below' },
        ]);
        // ops:init's files in place of the test's.
        for (const [from, to] of [
          ['mosquitto-passwords', 'passwords'],
          ['mosquitto-acl', 'acl'],
        ]) {
          const owner = statSync(join(brokerDir, to));
          copyFileSync(join(dir, from), join(brokerDir, to));
          chownSync(join(brokerDir, to), owner.uid, owner.gid);
        }
      },
    });
    const connect = (username: string, password: string) =>
      MqttProbe.connect(broker.url, [], {
        username,
        password,
        reconnectPeriod: 0,
      } satisfies IClientOptions);
    try {
      for (const [username, variable] of [
        ['config-manager', 'MQTT_MANAGER_PASSWORD'],
        ['dedup-worker/dedup-worker-1', 'MQTT_WORKER_PASSWORD_DEDUP_WORKER__DEDUP_WORKER_1'],
        ['dedup-worker/dedup-worker-2', 'MQTT_WORKER_PASSWORD_DEDUP_WORKER__DEDUP_WORKER_2'],
      ]) {
        const probe = await connect(username, env[variable]);
        await probe.close();
      }
      await expect(connect('config-manager', 'from-the-shell')).rejects.toThrow(
        /Not authorized|Bad username or password/i,
      );
      await expect(
        connect(
          'dedup-worker/dedup-worker-1',
          env.MQTT_WORKER_PASSWORD_DEDUP_WORKER__DEDUP_WORKER_2,
        ),
      ).rejects.toThrow(/Not authorized|Bad username or password/i);
    } finally {
      await broker.destroy();
    }
  });

  it('refuses to run again over the existing .env, says to move it away, and changes nothing', async () => {
    const before = readFileSync(join(dir, '.env'));
    const passwords = readFileSync(join(dir, 'mosquitto-passwords'));

    const again = await opsInit(dir);

    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/\.env exists; ops:init never overwrites it\. Move it away first/);
    expect(again.stderr).not.toMatch(/^\s+at /m);
    expect(again.stdout).toBe('');
    expect(readFileSync(join(dir, '.env')).equals(before)).toBe(true);
    expect(readFileSync(join(dir, 'mosquitto-passwords')).equals(passwords)).toBe(true);
  });

  it('refuses when only the broker password file exists, and writes no .env', async () => {
    const other = mkdtempSync(join(tmpdir(), 'cm-ops-init-pw-'));
    try {
      copyFileSync(join(REPO_ROOT, 'ops/.env.sample'), join(other, '.env.sample'));
      writeFileSync(join(other, 'mosquitto-passwords'), 'kept:$7$101$x$y\n');

      const result = await opsInit(other);

      expect(result.code).toBe(1);
      expect(result.stderr).toContain('mosquitto-passwords exists');
      expect(() => statSync(join(other, '.env'))).toThrow();
      expect(readFileSync(join(other, 'mosquitto-passwords'), 'utf8')).toBe('kept:$7$101$x$y\n');
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});
