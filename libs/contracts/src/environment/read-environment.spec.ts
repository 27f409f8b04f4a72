import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  DEV_KEYS_FILE,
  EnvBase64Key,
  EnvBoolean,
  EnvCheck,
  EnvDefault,
  EnvDevKey,
  EnvDevKeysDirectory,
  EnvEnum,
  EnvIf,
  EnvInteger,
  EnvironmentError,
  EnvKeyList,
  EnvNodeEnv,
  EnvPath,
  EnvRequired,
  EnvRequiredIf,
  EnvRequiredInProduction,
  EnvString,
  EnvUrl,
  type NodeEnv,
  parseEnvironment,
  readEnvironment,
} from '@app/contracts';
import type { KeyListEntry } from '@app/crypto';

class SampleEnvironment {
  @EnvNodeEnv() NODE_ENV: NodeEnv = 'development';
  @EnvDevKeysDirectory({ generate: true }) @EnvDefault('./data') DATA_DIR!: string;
  @EnvInteger({ min: 1, max: 10 }) WORKERS = 2;
  @EnvEnum(['json', 'pretty'])
  @EnvDefault<SampleEnvironment>((ctx) => (ctx.production ? 'json' : 'pretty'))
  FORMAT!: string;
  @EnvUrl({ protocols: ['http', 'https'], description: 'an http(s)' }) UPSTREAM_URL?: string;
  @EnvBoolean() VERBOSE = false;
  @EnvString({ trim: false }) PASSWORD?: string;
  @EnvString({ pattern: /^[a-z]+$/, message: 'ZONE must be lowercase letters' }) ZONE = 'eu';
  @EnvDefault<SampleEnvironment>((ctx) => join(ctx.values.DATA_DIR, 'state.db'))
  @EnvPath()
  STATE_FILE!: string;
  @EnvBase64Key({ bytes: 32 })
  @EnvDevKey((keys) => keys.getOrGenerate('SECRET', () => randomBytes(32).toString('base64')))
  @EnvRequiredInProduction('SECRET is required in production')
  SECRET!: Buffer;
  @EnvString()
  @EnvRequiredIf<SampleEnvironment>(
    (ctx) => ctx.sourceOf('SECRET') === 'env',
    'SECRET_ID is required with SECRET',
  )
  SECRET_ID?: string;
  @EnvKeyList({ bytes: 32, nonEmpty: 'PEERS must list at least one id:key' })
  PEERS?: KeyListEntry[];
  @EnvIf<SampleEnvironment>((ctx) => ctx.values.UPSTREAM_URL === undefined)
  @EnvInteger({ min: 0, max: 65535 })
  LOCAL_PORT = 1884;
  @EnvBoolean()
  @EnvCheck<boolean>((on, ctx) =>
    on && ctx.production ? 'TEST_HOOK is refused in production' : undefined,
  )
  TEST_HOOK = false;
}

class RequiredEnvironment {
  @EnvString() @EnvRequired('NAME is required (e.g. w-1)') NAME!: string;
}

describe(readEnvironment.name, () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'env-'));
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const problemsOf = (env: Record<string, string>): readonly string[] => {
    try {
      readEnvironment(SampleEnvironment, { DATA_DIR: dir, ...env });
    } catch (error) {
      if (error instanceof EnvironmentError) return error.problems;
      throw error;
    }
    throw new Error('expected an EnvironmentError');
  };

  it('applies initializers and computed defaults, derived from the variables above', () => {
    const { values } = readEnvironment(SampleEnvironment, { DATA_DIR: dir });

    expect(values).toMatchObject({
      NODE_ENV: 'development',
      DATA_DIR: dir,
      WORKERS: 2,
      FORMAT: 'pretty',
      VERBOSE: false,
      ZONE: 'eu',
      STATE_FILE: join(dir, 'state.db'),
      LOCAL_PORT: 1884,
    });
    // parseEnvironment() writes nothing, so no dev-keys.json lands in the working directory.
    expect(parseEnvironment(SampleEnvironment, { DATA_DIR: 'rel' }).values.DATA_DIR).toBe(
      join(process.cwd(), 'rel'),
    );
  });

  it('parses set values: trimmed (unless told not to), blank as unset', () => {
    const { values } = readEnvironment(SampleEnvironment, {
      DATA_DIR: dir,
      WORKERS: ' 7 ',
      FORMAT: 'json',
      UPSTREAM_URL: 'https://up.example.com/v1',
      VERBOSE: 'TRUE',
      PASSWORD: ' spaced ',
      ZONE: '',
      LOCAL_PORT: 'ignored: UPSTREAM_URL is set',
    });

    expect(values).toMatchObject({
      WORKERS: 7,
      FORMAT: 'json',
      UPSTREAM_URL: 'https://up.example.com/v1',
      VERBOSE: true,
      PASSWORD: ' spaced ',
      ZONE: 'eu',
      LOCAL_PORT: 1884,
    });
  });

  it('names every bad variable at once, in declaration order, in one error', () => {
    const secret = randomBytes(16).toString('base64');
    let error: unknown;
    try {
      readEnvironment(SampleEnvironment, {
        DATA_DIR: dir,
        WORKERS: '1e1',
        FORMAT: 'yaml',
        UPSTREAM_URL: 'ftp://x',
        VERBOSE: 'yes',
        ZONE: 'EU',
        SECRET: secret,
        PEERS: ' , ',
      });
    } catch (e) {
      error = e;
    }

    expect(error).toBeInstanceOf(EnvironmentError);
    const { message, problems } = error as EnvironmentError;
    expect(problems).toEqual([
      'WORKERS must be an integer from 1 to 10 (got "1e1")',
      'FORMAT must be one of json, pretty',
      'UPSTREAM_URL must be an http(s) URL',
      'VERBOSE must be true or false (or 1 or 0; got "yes")',
      'ZONE must be lowercase letters',
      'SECRET must decode to 32 bytes (got 16)',
      'SECRET_ID is required with SECRET',
      'PEERS must list at least one id:key',
    ]);
    expect(message).toBe(`Invalid environment variables:\n  - ${problems.join('\n  - ')}`);
    expect(message).not.toContain(secret);
  });

  it.each(['0x10', '2.0', '-', '99999999999999999999'])('refuses the integer %j', (raw) => {
    expect(problemsOf({ WORKERS: raw })).toEqual([
      `WORKERS must be an integer from 1 to 10 (got "${raw}")`,
    ]);
  });

  it('reports an unset required variable', () => {
    expect(() => readEnvironment(RequiredEnvironment, {})).toThrow(
      'Invalid environment variables:\n  - NAME is required (e.g. w-1)',
    );
  });

  describe('development keys', () => {
    it('outside production generates a missing key into DATA_DIR/dev-keys.json (0600) and reuses it', () => {
      const first = readEnvironment(SampleEnvironment, { DATA_DIR: dir });
      const file = join(dir, DEV_KEYS_FILE);

      expect(first.devKeys).toEqual({ path: file, variables: ['SECRET'], generated: ['SECRET'] });
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const second = readEnvironment(SampleEnvironment, { DATA_DIR: dir });
      expect(second.values.SECRET.equals(first.values.SECRET)).toBe(true);
      expect(second.devKeys).toEqual({ path: file, variables: ['SECRET'], generated: [] });
    });

    it('prefers a set variable, and then has no dev key to report', () => {
      const secret = randomBytes(32);

      const sut = readEnvironment(SampleEnvironment, {
        DATA_DIR: dir,
        SECRET: secret.toString('base64'),
        SECRET_ID: 's-1',
      });

      expect(sut.values.SECRET.equals(secret)).toBe(true);
      expect(sut.devKeys).toBeUndefined();
      expect(() => statSync(join(dir, DEV_KEYS_FILE))).toThrow();
    });

    it('writes nothing when another variable is bad', () => {
      expect(problemsOf({ WORKERS: '0' })).toHaveLength(1);
      expect(() => statSync(join(dir, DEV_KEYS_FILE))).toThrow();
    });

    it.each(['production', 'Production', 'staging'])(
      'with NODE_ENV=%j never reads or writes the file; rules for production apply',
      (nodeEnv) => {
        writeFileSync(join(dir, DEV_KEYS_FILE), JSON.stringify({ SECRET: 'x' }));

        const problems = problemsOf({ NODE_ENV: nodeEnv, TEST_HOOK: '1' });

        expect(problems).toEqual(
          expect.arrayContaining([
            'SECRET is required in production',
            'TEST_HOOK is refused in production',
          ]),
        );
        expect(readFileSync(join(dir, DEV_KEYS_FILE), 'utf8')).toBe('{"SECRET":"x"}');
      },
    );

    it('reports a file that is not a JSON object once, by path, without its content, and keeps it', () => {
      const file = join(dir, DEV_KEYS_FILE);
      writeFileSync(file, '{"SECRET": "trunc');

      const problems = problemsOf({});

      expect(problems).toEqual([
        `${file} (development keys) is not a JSON object; delete it and restart config-manager to regenerate it`,
      ]);
      expect(readFileSync(file, 'utf8')).toBe('{"SECRET": "trunc');
    });
  });

  it('parseEnvironment() collects problems without throwing, keeping defaults for refused values', () => {
    const sut = parseEnvironment(SampleEnvironment, {
      DATA_DIR: dir,
      NODE_ENV: 'prod',
      FORMAT: 'yaml',
    });

    expect(sut.problems).toEqual([
      'NODE_ENV must be one of production, development, test (in any case; got "prod")',
      'FORMAT must be one of json, pretty',
      'SECRET is required in production',
    ]);
    expect(sut.values).toMatchObject({ NODE_ENV: 'production', FORMAT: 'json' });
  });

  it('refuses a class without environment fields', () => {
    class Empty {}
    expect(() => readEnvironment(Empty, {})).toThrow(/Empty declares no environment variables/);
  });
});
