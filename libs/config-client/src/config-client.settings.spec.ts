import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { INSTANCE_ID_PATTERN } from '@app/contracts';
import { generateBoxKeyPair, generateSigningKeyPair } from '@app/crypto';
import { CapturedLogger } from '@app/testing';
import { BILLING_SYNC, BillingSyncConfig, billingSyncSchema } from '../test/support/billing-sync';
import { ConfigClientError, ConfigClientErrorCode } from './config-client.error';
import {
  configClientOptionsFromEnv,
  DEV_KEYS_FILE,
  defaultInstanceId,
} from './config-client.settings';

type Env = Record<string, string | undefined>;

describe(configClientOptionsFromEnv.name, () => {
  let dir: string;
  const signing = generateSigningKeyPair();
  const box = generateBoxKeyPair();
  const hmacKey = randomBytes(32);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'client-settings-'));
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function env(overrides: Env = {}): Env {
    return {
      NODE_ENV: 'production',
      DATA_DIR: dir,
      MQTT_URL: 'mqtt://broker:1883',
      SERVICE_NAME: 'dedup-worker',
      INSTANCE_ID: 'w-1',
      CONFIG_TRUSTED_KEYS: `cfg-1:${signing.publicKey.toString('base64')}`,
      CONFIG_SECRET_KEY: box.secretKey.toString('base64'),
      LKG_HMAC_KEY: hmacKey.toString('base64'),
      ...overrides,
    };
  }

  function problemsOf(input: Env, service?: string): string[] {
    try {
      configClientOptionsFromEnv(input, { service });
    } catch (error) {
      if (error instanceof ConfigClientError) {
        expect(error.code).toBe(ConfigClientErrorCode.InvalidEnvironment);
        return [...error.problems];
      }
      throw error;
    }
    throw new Error('expected a ConfigClientError');
  }

  function writeDevKeys(values: Record<string, string>): string {
    const path = join(dir, DEV_KEYS_FILE);
    writeFileSync(path, JSON.stringify(values), { mode: 0o600 });
    return path;
  }

  it('reads every variable', () => {
    const sut = configClientOptionsFromEnv(
      env({
        MQTT_USERNAME: 'worker',
        MQTT_PASSWORD: 'pw',
        MQTT_TOPIC_PREFIX: 'tenant-a/',
        LKG_PATH: join(dir, 'custom.json'),
        INITIAL_CONFIG_TIMEOUT_MS: '750',
        INSTANCE_LABELS: 'region=eu-west, tier=canary,,zone=',
      }),
    );

    expect(sut).toMatchObject({
      service: 'dedup-worker',
      instanceId: 'w-1',
      labels: { region: 'eu-west', tier: 'canary', zone: '' },
      mqttUrl: 'mqtt://broker:1883',
      mqttUsername: 'worker',
      mqttPassword: 'pw',
      topicPrefix: 'tenant-a/',
      lkgPath: join(dir, 'custom.json'),
      initialConfigTimeoutMs: 750,
    });
    expect(sut.trustedKeys).toEqual(new Map([['cfg-1', signing.publicKey]]));
    expect(sut.secretKey).toEqual(box.secretKey);
    expect(sut.lkgHmacKey).toEqual(hmacKey);
  });

  it('defaults LKG_PATH to DATA_DIR/<service>.<instanceId>.lkg.json and the timeout to the client default', () => {
    const sut = configClientOptionsFromEnv(env());

    expect(sut.lkgPath).toBe(resolve(dir, 'dedup-worker.w-1.lkg.json'));
    expect(sut.initialConfigTimeoutMs).toBeUndefined();
    expect(sut.labels).toEqual({});
  });

  describe('rotation overlaps and staleness', () => {
    it('reads CONFIG_SECRET_KEYS_PREVIOUS, LKG_HMAC_KEYS_PREVIOUS and CONFIG_MAX_STALENESS', () => {
      const oldBox = generateBoxKeyPair();
      const oldHmac = randomBytes(16);
      const sut = configClientOptionsFromEnv(
        env({
          CONFIG_SECRET_KEYS_PREVIOUS: ` ${oldBox.secretKey.toString('base64')} ,`,
          LKG_HMAC_KEYS_PREVIOUS: `${oldHmac.toString('base64')},${randomBytes(32).toString('base64')}`,
          CONFIG_MAX_STALENESS: '0',
        }),
      );

      expect(sut.previousSecretKeys).toEqual([oldBox.secretKey]);
      expect(sut.lkgPreviousHmacKeys).toHaveLength(2);
      expect(sut.lkgPreviousHmacKeys?.[0]).toEqual(oldHmac);
      expect(sut.maxStalenessSeconds).toBe(0);
    });

    it('defaults to no previous keys and 300 s of staleness', () => {
      expect(configClientOptionsFromEnv(env())).toMatchObject({
        previousSecretKeys: [],
        lkgPreviousHmacKeys: [],
        maxStalenessSeconds: 300,
      });
    });

    it('names each bad entry by its position, never its value', () => {
      const short = randomBytes(15).toString('base64');
      const problems = problemsOf(
        env({
          CONFIG_SECRET_KEYS_PREVIOUS: `${box.secretKey.toString('base64')},${short}`,
          LKG_HMAC_KEYS_PREVIOUS: `${short},not base64!`,
          CONFIG_MAX_STALENESS: '-1',
        }),
      );

      expect(problems).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^CONFIG_SECRET_KEYS_PREVIOUS\[1\]/),
          expect.stringMatching(/^LKG_HMAC_KEYS_PREVIOUS\[0\] must decode to at least 16 bytes/),
          expect.stringMatching(/^LKG_HMAC_KEYS_PREVIOUS\[1\] is not valid base64/),
          expect.stringMatching(/CONFIG_MAX_STALENESS/),
        ]),
      );
      expect(problems.join('\n')).not.toContain(short);
    });

    it('refuses CONFIG_SECRET_KEYS_PREVIOUS without CONFIG_SECRET_KEY', () => {
      expect(
        problemsOf(
          env({
            CONFIG_SECRET_KEY: undefined,
            CONFIG_SECRET_KEYS_PREVIOUS: box.secretKey.toString('base64'),
          }),
        ),
      ).toEqual([
        expect.stringMatching(/CONFIG_SECRET_KEYS_PREVIOUS is set without CONFIG_SECRET_KEY/),
      ]);
    });
  });

  it('defaults INSTANCE_ID to <hostname>-<pid>, valid as a topic segment', () => {
    const sut = configClientOptionsFromEnv(env({ INSTANCE_ID: undefined }));

    expect(sut.instanceId).toMatch(new RegExp(`-${process.pid}$`));
    expect(sut.instanceId).toMatch(INSTANCE_ID_PATTERN);
  });

  it('takes the service from the code when SERVICE_NAME is unset', () => {
    expect(
      configClientOptionsFromEnv(env({ SERVICE_NAME: undefined }), { service: 'dedup-worker' })
        .service,
    ).toBe('dedup-worker');
  });

  it('lists every problem at once, each naming its variable, never a key', () => {
    const badSecret = 'c2VjcmV0LXZhbHVlLXRoYXQtaXMtdG9vLXNob3J0';
    const problems = problemsOf({
      NODE_ENV: 'production',
      DATA_DIR: dir,
      MQTT_TOPIC_PREFIX: 'bad',
      INSTANCE_ID: 'has space',
      CONFIG_SECRET_KEY: badSecret,
      INITIAL_CONFIG_TIMEOUT_MS: '-5',
      MQTT_CA_FILE: join(dir, 'missing-ca.pem'),
    });

    const names = [
      'SERVICE_NAME',
      'MQTT_URL',
      'MQTT_CA_FILE',
      'MQTT_TOPIC_PREFIX',
      'INSTANCE_ID',
      'CONFIG_TRUSTED_KEYS',
      'CONFIG_SECRET_KEY',
      'LKG_HMAC_KEY',
      'INITIAL_CONFIG_TIMEOUT_MS',
    ];
    for (const name of names) {
      expect(problems.some((problem) => problem.startsWith(name))).toBe(true);
    }
    expect(problems).toHaveLength(names.length);
    expect(problems.join('\n')).not.toContain(badSecret);
  });

  it.each<[string, Env, RegExp]>([
    // Any service registered on the manager will do (issue 14); the name is a topic segment.
    [
      'a service name that is not a topic segment',
      { SERVICE_NAME: 'Nope/Worker' },
      /^SERVICE_NAME "Nope\/Worker" must match/,
    ],
    ['a non-MQTT URL', { MQTT_URL: 'http://broker' }, /^MQTT_URL must be/],
    [
      'a short LKG_HMAC_KEY',
      { LKG_HMAC_KEY: randomBytes(8).toString('base64') },
      /^LKG_HMAC_KEY must decode to at least 16/,
    ],
    [
      'LKG_HMAC_KEY not base64',
      { LKG_HMAC_KEY: 'not base64!' },
      /^LKG_HMAC_KEY is not valid base64/,
    ],
    [
      'a trusted key of the wrong size',
      { CONFIG_TRUSTED_KEYS: `k:${randomBytes(16).toString('base64')}` },
      /^CONFIG_TRUSTED_KEYS item 1 \(k\) must decode to 32 bytes/,
    ],
    [
      'an empty trusted key list',
      { CONFIG_TRUSTED_KEYS: ' , ' },
      /^CONFIG_TRUSTED_KEYS must list at least one/,
    ],
    [
      'a timeout that is not an integer',
      { INITIAL_CONFIG_TIMEOUT_MS: '1.5' },
      /^INITIAL_CONFIG_TIMEOUT_MS/,
    ],
  ])('refuses %s', (_case, overrides, message) => {
    expect(problemsOf(env(overrides))).toEqual([expect.stringMatching(message)]);
  });

  it('refuses INSTANCE_LABELS that a rollout selector could not match, naming each problem', () => {
    const many = Array.from({ length: 17 }, (_, i) => `k${i}=v`).join(',');

    expect(
      problemsOf(env({ INSTANCE_LABELS: 'region=eu,tier,Zone=a,region=us,app=x y,__proto__=1' })),
    ).toEqual([
      'INSTANCE_LABELS item 2 must be key=value (got "tier")',
      'INSTANCE_LABELS item 4 repeats label region (first at item 1)',
      `INSTANCE_LABELS key "Zone" must match ${String(/^[a-z][a-z0-9_.-]{0,62}$/)}`,
      `INSTANCE_LABELS value of app must be a string matching ${String(/^[A-Za-z0-9_.:-]{0,63}$/)} (got "x y")`,
      `INSTANCE_LABELS key "__proto__" must match ${String(/^[a-z][a-z0-9_.-]{0,62}$/)}`,
    ]);
    expect(problemsOf(env({ INSTANCE_LABELS: many }))).toEqual([
      'INSTANCE_LABELS has 17 labels, at most 16',
    ]);
  });

  describe('services the SDK does not know', () => {
    function writeSchemaFile(content: unknown): string {
      const path = join(dir, 'billing-sync.schema.json');
      writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
      return path;
    }

    it('accepts one without a schema: the client will use the signed schema', () => {
      const sut = configClientOptionsFromEnv(env({ SERVICE_NAME: BILLING_SYNC }));

      expect(sut.service).toBe(BILLING_SYNC);
      expect(sut.schema).toBeUndefined();
      expect(sut.lkgPath).toBe(resolve(dir, `${BILLING_SYNC}.w-1.lkg.json`));
    });

    it('reads its JSON Schema from SERVICE_SCHEMA_FILE', () => {
      const path = writeSchemaFile(billingSyncSchema());

      const sut = configClientOptionsFromEnv(
        env({ SERVICE_NAME: BILLING_SYNC, SERVICE_SCHEMA_FILE: path }),
      );

      expect(sut.schema).toEqual(billingSyncSchema());
    });

    it('warns about a missing CONFIG_SECRET_KEY when the schema file has secrets', () => {
      const logger = new CapturedLogger();
      const path = writeSchemaFile(billingSyncSchema());

      configClientOptionsFromEnv(
        env({
          SERVICE_NAME: BILLING_SYNC,
          SERVICE_SCHEMA_FILE: path,
          CONFIG_SECRET_KEY: undefined,
        }),
        { logger },
      );

      expect(logger.text()).toMatch(/CONFIG_SECRET_KEY is not set: any billing-sync config/);
    });

    it.each<[string, () => string, RegExp]>([
      [
        'a file that does not exist',
        () => join(dir, 'missing.json'),
        /^SERVICE_SCHEMA_FILE .*missing\.json cannot be read \(ENOENT\)/,
      ],
      [
        'a file that is not JSON',
        () => writeSchemaFile('{"type": '),
        /^SERVICE_SCHEMA_FILE .* is not JSON/,
      ],
      [
        'a schema the registration would refuse',
        () =>
          writeSchemaFile(
            billingSyncSchema({ properties: { e: { type: 'string', format: 'email' } } }),
          ),
        /^SERVICE_SCHEMA_FILE .* is not a usable JSON Schema: .*"format"/,
      ],
    ])('refuses %s as SERVICE_SCHEMA_FILE', (_case, path, message) => {
      expect(problemsOf(env({ SERVICE_NAME: BILLING_SYNC, SERVICE_SCHEMA_FILE: path() }))).toEqual([
        expect.stringMatching(message),
      ]);
    });

    it('passes the schema of the worker code on, and refuses SERVICE_SCHEMA_FILE beside it', () => {
      const sut = configClientOptionsFromEnv(env({ SERVICE_NAME: BILLING_SYNC }), {
        service: BILLING_SYNC,
        schema: BillingSyncConfig,
      });
      expect(sut.schema).toBe(BillingSyncConfig);

      let problems: readonly string[] = [];
      try {
        configClientOptionsFromEnv(
          env({
            SERVICE_NAME: BILLING_SYNC,
            SERVICE_SCHEMA_FILE: writeSchemaFile(billingSyncSchema()),
          }),
          { schema: BillingSyncConfig },
        );
      } catch (error) {
        problems = error instanceof ConfigClientError ? error.problems : [];
      }
      expect(problems).toEqual([
        'SERVICE_SCHEMA_FILE is set, but this worker brings its own schema: unset it',
      ]);
    });
  });

  it('refuses a SERVICE_NAME that disagrees with the worker code', () => {
    expect(problemsOf(env({ SERVICE_NAME: 'dedup-worker' }), 'other-worker')).toEqual([
      expect.stringMatching(/^SERVICE_NAME is "dedup-worker", but this worker is other-worker/),
    ]);
  });

  it('leaves CONFIG_SECRET_KEY optional, with a warning for a service that has secrets', () => {
    const logger = new CapturedLogger();

    const sut = configClientOptionsFromEnv(env({ CONFIG_SECRET_KEY: undefined }), { logger });

    expect(sut.secretKey).toBeUndefined();
    expect(logger.text()).toMatch(/CONFIG_SECRET_KEY is not set/);
  });

  describe('development keys from DATA_DIR/dev-keys.json', () => {
    const devEnv = (overrides: Env = {}): Env =>
      env({
        NODE_ENV: undefined,
        CONFIG_TRUSTED_KEYS: undefined,
        CONFIG_SECRET_KEY: undefined,
        LKG_HMAC_KEY: undefined,
        ...overrides,
      });

    function managerDevKeys(): Record<string, string> {
      return {
        CONFIG_MASTER_KEY: randomBytes(32).toString('base64'),
        CONFIG_SIGNING_KEY: signing.secretKey.toString('base64'),
        CONFIG_SIGNING_KEY_ID: 'cfg-dev',
        SERVICE_SECRET_KEYS: `other-worker:${generateBoxKeyPair().secretKey.toString('base64')},dedup-worker:${box.secretKey.toString('base64')}`,
      };
    }

    it('derives trusted keys, secret key and HMAC key, saving a generated HMAC key (0600, other entries kept)', () => {
      const original = managerDevKeys();
      const path = writeDevKeys(original);
      const logger = new CapturedLogger();

      const sut = configClientOptionsFromEnv(devEnv(), { logger });

      expect(sut.trustedKeys).toEqual(new Map([['cfg-dev', signing.publicKey]]));
      expect(sut.secretKey).toEqual(box.secretKey);
      expect(sut.lkgHmacKey).toHaveLength(32);
      const saved = JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>;
      expect(saved).toEqual({ ...original, LKG_HMAC_KEY: sut.lkgHmacKey.toString('base64') });
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(logger.text()).toMatch(
        /development keys .* for CONFIG_TRUSTED_KEYS, CONFIG_SECRET_KEY, LKG_HMAC_KEY \(LKG_HMAC_KEY generated now\)/,
      );
      expect(logger.text()).not.toContain(saved.LKG_HMAC_KEY);
      expect(logger.text()).not.toContain(original.CONFIG_SIGNING_KEY);
    });

    it('reuses the saved HMAC key on the next start', () => {
      writeDevKeys(managerDevKeys());

      const first = configClientOptionsFromEnv(devEnv());
      const second = configClientOptionsFromEnv(devEnv());

      expect(second.lkgHmacKey).toEqual(first.lkgHmacKey);
    });

    it('prefers explicit variables over the file', () => {
      writeDevKeys(managerDevKeys());
      const explicit = generateSigningKeyPair().publicKey;

      const sut = configClientOptionsFromEnv(
        devEnv({ CONFIG_TRUSTED_KEYS: `explicit:${explicit.toString('base64')}` }),
      );

      expect(sut.trustedKeys).toEqual(new Map([['explicit', explicit]]));
    });

    it('leaves the secret key unset when the file has none for this service', () => {
      writeDevKeys({ ...managerDevKeys(), SERVICE_SECRET_KEYS: '' });

      expect(configClientOptionsFromEnv(devEnv()).secretKey).toBeUndefined();
    });

    it('is never read in production', () => {
      writeDevKeys(managerDevKeys());

      const problems = problemsOf(devEnv({ NODE_ENV: 'production' }));

      expect(problems).toEqual([
        expect.stringMatching(/^CONFIG_TRUSTED_KEYS is required/),
        expect.stringMatching(/^LKG_HMAC_KEY is required/),
      ]);
    });

    it.each(['Production', 'PRODUCTION'])('is never read with NODE_ENV=%j either', (nodeEnv) => {
      writeDevKeys(managerDevKeys());

      const problems = problemsOf(devEnv({ NODE_ENV: nodeEnv }));

      expect(problems).toEqual([
        expect.stringMatching(/^CONFIG_TRUSTED_KEYS is required/),
        expect.stringMatching(/^LKG_HMAC_KEY is required/),
      ]);
    });

    it('is read with NODE_ENV in any case of development or test', () => {
      writeDevKeys(managerDevKeys());

      for (const nodeEnv of ['Development', 'TEST']) {
        const sut = configClientOptionsFromEnv(devEnv({ NODE_ENV: nodeEnv }));
        expect(sut.trustedKeys).toEqual(new Map([['cfg-dev', signing.publicKey]]));
      }
    });

    it('refuses an unknown NODE_ENV naming the accepted values, and does not read the file', () => {
      writeDevKeys(managerDevKeys());

      const problems = problemsOf(devEnv({ NODE_ENV: 'staging' }));

      expect(problems).toEqual([
        'NODE_ENV must be one of production, development, test (in any case; got "staging")',
        expect.stringMatching(/^CONFIG_TRUSTED_KEYS is required/),
        expect.stringMatching(/^LKG_HMAC_KEY is required/),
      ]);
    });

    it('reports a malformed file by name, without its content, and does not overwrite it', () => {
      const path = join(dir, DEV_KEYS_FILE);
      writeFileSync(path, '{"CONFIG_SIGNING_KEY": "trunc');

      const problems = problemsOf(devEnv());

      expect(problems.join('\n')).toContain(`${path} (development keys) is not a JSON object`);
      expect(problems.join('\n')).not.toContain('trunc');
      expect(readFileSync(path, 'utf8')).toBe('{"CONFIG_SIGNING_KEY": "trunc');
    });

    it('reports an inconsistent signing key in the file, naming the variable', () => {
      const other = generateSigningKeyPair();
      const broken = Buffer.concat([signing.secretKey.subarray(0, 32), other.publicKey]).toString(
        'base64',
      );
      writeDevKeys({ ...managerDevKeys(), CONFIG_SIGNING_KEY: broken });

      const problems = problemsOf(devEnv());

      expect(problems[0]).toMatch(
        /^CONFIG_TRUSTED_KEYS is not set and cannot be derived: .*inconsistent/,
      );
      expect(problems.join('\n')).not.toContain(broken);
    });
  });
});

describe(defaultInstanceId.name, () => {
  it.each([
    ['worker-a', 7, 'worker-a-7'],
    ['my host/with#chars', 12, 'my-host-with-chars-12'],
    ['..hidden', 3, 'hidden-3'],
    ['', 1, 'worker-1'],
    ['h'.repeat(300), 123456, `${'h'.repeat(121)}-123456`],
  ])('turns hostname %p and pid %p into %p', (host, pid, expected) => {
    const sut = defaultInstanceId(host, pid);

    expect(sut).toBe(expected);
    expect(sut).toMatch(INSTANCE_ID_PATTERN);
  });
});
