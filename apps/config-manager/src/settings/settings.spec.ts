import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DEV_KEYS_FILE, EnvironmentError } from '@app/contracts';
import { loadSettings } from './settings';

describe(loadSettings.name, () => {
  let dataDir: string;
  const warnings: string[] = [];
  const warn = { warn: (m: string) => warnings.push(m) };

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'cm-settings-'));
    warnings.length = 0;
  });

  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  const errorOf = (env: Record<string, string>): EnvironmentError => {
    try {
      loadSettings({ DATA_DIR: dataDir, ...env }, warn);
    } catch (e) {
      if (e instanceof EnvironmentError) return e;
      throw e;
    }
    throw new Error('expected a EnvironmentError');
  };

  it('applies the documented defaults', () => {
    const sut = loadSettings({ DATA_DIR: dataDir }, warn);
    expect(sut).toMatchObject({
      port: 8080,
      production: false,
      appEnv: 'development',
      host: '0.0.0.0',
    });
    // State follows DATA_DIR: the default SQLite file is DATA_DIR/config.db, wherever the cwd.
    expect(sut.database).toEqual({ type: 'sqlite', path: join(dataDir, 'config.db') });
  });

  it('keeps every default path of state under DATA_DIR, and an explicit DATABASE_URL as given', () => {
    const sut = loadSettings({ DATA_DIR: dataDir }, warn);
    expect(sut.dataDir).toBe(dataDir);
    expect(sut.database).toEqual({ type: 'sqlite', path: join(dataDir, 'config.db') });
    // Shipped files, not state: relative to the working directory.
    expect(sut.defaultsDir).toBe(join(process.cwd(), 'config', 'defaults'));
    expect(sut.adminUiDir).toBe(join(process.cwd(), 'dist', 'admin-ui'));

    const explicit = loadSettings({ DATA_DIR: dataDir, DATABASE_URL: 'sqlite:elsewhere.db' }, warn);
    expect(explicit.database).toEqual({
      type: 'sqlite',
      path: join(process.cwd(), 'elsewhere.db'),
    });
  });

  it('logs readable lines in development and JSON lines in test, unless LOG_FORMAT says otherwise', () => {
    const formatOf = (env: Record<string, string>) =>
      loadSettings({ DATA_DIR: dataDir, ...env }, warn).logFormat;

    expect(formatOf({})).toBe('pretty');
    expect(formatOf({ NODE_ENV: 'test' })).toBe('json');
    expect(formatOf({ LOG_FORMAT: 'json' })).toBe('json');
    expect(formatOf({ NODE_ENV: 'test', LOG_FORMAT: 'pretty' })).toBe('pretty');
    expect(errorOf({ LOG_FORMAT: 'text' }).problems).toEqual([
      'LOG_FORMAT must be one of json, pretty',
    ]);
  });

  it('reads MQTT_EMBEDDED_HOST and MQTT_EMBEDDED_PORT only without MQTT_URL', () => {
    const embedded = { MQTT_EMBEDDED_HOST: '0.0.0.0', MQTT_EMBEDDED_PORT: 'none' };
    expect(errorOf(embedded).problems).toEqual([
      'MQTT_EMBEDDED_PORT must be an integer from 0 to 65535 (got "none")',
    ]);
    const sut = loadSettings(
      { DATA_DIR: dataDir, MQTT_URL: 'mqtts://broker.example.com:8883', ...embedded },
      warn,
    );
    expect(sut.mqtt).toMatchObject({
      url: 'mqtts://broker.example.com:8883',
      embeddedHost: '127.0.0.1',
      embeddedPort: 1884,
    });
  });

  it('in development generates missing keys once into DATA_DIR (0600), with one warning', () => {
    const first = loadSettings({ DATA_DIR: dataDir }, warn);
    const file = join(dataDir, DEV_KEYS_FILE);

    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`Using development keys from ${file}`);
    expect(warnings[0]).toMatch(
      /generated now: CONFIG_MASTER_KEY, CONFIG_SIGNING_KEY, CONFIG_SIGNING_KEY_ID, SERVICE_SECRET_KEYS/,
    );
    const second = loadSettings({ DATA_DIR: dataDir }, warn);
    expect(second.masterKey.id).toBe(first.masterKey.id);
    expect(second.signing.publicKey.equals(first.signing.publicKey)).toBe(true);
    expect(warnings[1]).not.toContain('generated now');
    expect(readFileSync(file, 'utf8')).toContain('CONFIG_MASTER_KEY');
  });

  it('creates a missing DATA_DIR (and its parents) 0700 for the generated keys', () => {
    const fresh = join(dataDir, 'nested', 'data');
    loadSettings({ DATA_DIR: fresh }, warn);

    expect(statSync(join(dataDir, 'nested')).mode & 0o777).toBe(0o700);
    expect(statSync(fresh).mode & 0o777).toBe(0o700);
    expect(statSync(join(fresh, DEV_KEYS_FILE)).mode & 0o777).toBe(0o600);
  });

  it('in production a missing key is an error naming the variable, and nothing is generated', () => {
    const error = errorOf({ NODE_ENV: 'production' });
    expect(error.message).toContain('Invalid environment variables');
    expect(error.message).toContain('CONFIG_MASTER_KEY is required in production');
    expect(error.message).toContain('CONFIG_SIGNING_KEY is required in production');
    expect(() => statSync(join(dataDir, DEV_KEYS_FILE))).toThrow();
  });

  it('in production refuses the embedded broker and a generated admin token, naming each variable', () => {
    const error = errorOf({ NODE_ENV: 'production' });
    expect(error.problems).toEqual(
      expect.arrayContaining([
        'CONFIG_MASTER_KEY is required in production (generate one with: openssl rand -base64 32)',
        'CONFIG_SIGNING_KEY is required in production (generate keys with: npm run keys -- generate)',
        'MQTT_URL is required in production (the embedded broker is for development only)',
        'API_TOKENS is required in production (a generated admin token is for development only)',
      ]),
    );
  });

  it.each(['Production', 'PRODUCTION', ' production '])(
    'reads NODE_ENV=%j as production: missing keys are errors, nothing is generated',
    (nodeEnv) => {
      const error = errorOf({ NODE_ENV: nodeEnv });
      expect(error.problems).toEqual(
        expect.arrayContaining([
          'CONFIG_MASTER_KEY is required in production (generate one with: openssl rand -base64 32)',
          'MQTT_URL is required in production (the embedded broker is for development only)',
        ]),
      );
      expect(() => statSync(join(dataDir, DEV_KEYS_FILE))).toThrow();
    },
  );

  it('reads NODE_ENV case-insensitively outside production too', () => {
    expect(loadSettings({ DATA_DIR: dataDir, NODE_ENV: 'Test' }, warn)).toMatchObject({
      nodeEnv: 'test',
      production: false,
    });
    expect(loadSettings({ DATA_DIR: dataDir, NODE_ENV: 'DEVELOPMENT' }, warn)).toMatchObject({
      nodeEnv: 'development',
      production: false,
    });
  });

  it.each(['prod', 'staging', 'production1'])(
    'refuses NODE_ENV=%j naming the accepted values, and fails closed',
    (nodeEnv) => {
      const error = errorOf({ NODE_ENV: nodeEnv });
      expect(error.problems).toContain(
        `NODE_ENV must be one of production, development, test (in any case; got "${nodeEnv}")`,
      );
      // Read as production meanwhile: no development keys generated, no embedded broker.
      expect(error.problems).toContain(
        'MQTT_URL is required in production (the embedded broker is for development only)',
      );
      expect(() => statSync(join(dataDir, DEV_KEYS_FILE))).toThrow();
    },
  );

  it('honours the chaos harness hook CHAOS_EXIT_AFTER_COMMIT only outside production', () => {
    expect(loadSettings({ DATA_DIR: dataDir }, warn).chaosExitAfterCommit).toBe(false);
    expect(
      loadSettings({ DATA_DIR: dataDir, CHAOS_EXIT_AFTER_COMMIT: '1' }, warn).chaosExitAfterCommit,
    ).toBe(true);
    expect(errorOf({ NODE_ENV: 'production', CHAOS_EXIT_AFTER_COMMIT: '1' }).problems).toContain(
      'CHAOS_EXIT_AFTER_COMMIT is a test hook and is refused in production',
    );
    expect(errorOf({ CHAOS_EXIT_AFTER_COMMIT: 'yes' }).problems).toEqual([
      'CHAOS_EXIT_AFTER_COMMIT must be true or false (or 1 or 0; got "yes")',
    ]);
  });

  it('names every malformed variable at once', () => {
    const error = errorOf({
      PORT: 'eighty',
      DATABASE_URL: 'mysql://x',
      CONFIG_MASTER_KEY: randomBytes(16).toString('base64'),
      API_TOKENS: '[{"name":"ops","roles":["root"],"token":"0123456789abcdef"}]',
      LOG_LEVEL: 'loud',
    });
    expect(error.problems).toEqual([
      'PORT must be an integer from 0 to 65535 (got "eighty")',
      'DATABASE_URL must start with sqlite: or postgres://',
      'LOG_LEVEL must be one of error, warn, log, debug, verbose',
      'CONFIG_MASTER_KEY must decode to 32 bytes (got 16)',
      'API_TOKENS[0].roles must be a non-empty array of config:read, config:write, secrets:write, admin',
    ]);
  });

  it('parses API_TOKENS with a token or its SHA-256, never keeping the token itself', () => {
    const hash = 'a'.repeat(64);
    const sut = loadSettings(
      {
        DATA_DIR: dataDir,
        API_TOKENS: JSON.stringify([
          { name: 'ops', roles: ['admin'], token: 'ops-token-0123456789' },
          { name: 'ci', roles: ['config:read'], tokenSha256: hash },
        ]),
      },
      warn,
    );
    expect(sut.apiTokens.map((t) => [t.name, t.roles, t.tokenSha256.length])).toEqual([
      ['ops', ['admin'], 32],
      ['ci', ['config:read'], 32],
    ]);
    expect(JSON.stringify(sut)).not.toContain('ops-token-0123456789');
    expect(errorOf({ API_TOKENS: 'not json' }).message).toContain(
      'API_TOKENS must be a JSON array',
    );
    expect(
      errorOf({ API_TOKENS: '[{"name":"x","roles":["admin"],"token":"short"}]' }).message,
    ).toContain('API_TOKENS[0].token must be at least 16 characters');
  });

  it('reads a Postgres schema from DATABASE_URL', () => {
    const sut = loadSettings(
      { DATA_DIR: dataDir, DATABASE_URL: 'postgres://u@db:5432/cfg?schema=tenant_a' },
      warn,
    );
    expect(sut.database).toEqual({
      type: 'postgres',
      url: 'postgres://u@db:5432/cfg',
      schema: 'tenant_a',
    });
  });

  it('rate limit, CORS and proxy settings: defaults, parsing, and errors naming the variable', () => {
    expect(loadSettings({ DATA_DIR: dataDir }, warn)).toMatchObject({
      rateLimitPerMinute: 600,
      corsOrigins: [],
      trustProxyHops: 0,
    });
    const sut = loadSettings(
      {
        DATA_DIR: dataDir,
        RATE_LIMIT_PER_MINUTE: '30',
        CORS_ORIGINS: 'https://console.example.com, http://localhost:5173/',
        TRUST_PROXY_HOPS: '1',
      },
      warn,
    );
    expect(sut).toMatchObject({
      rateLimitPerMinute: 30,
      corsOrigins: ['https://console.example.com', 'http://localhost:5173'],
      trustProxyHops: 1,
    });
    expect(
      errorOf({
        RATE_LIMIT_PER_MINUTE: '0',
        CORS_ORIGINS: 'https://ok.example.com,*,https://x.example.com/path',
        TRUST_PROXY_HOPS: 'yes',
      }).problems,
    ).toEqual([
      'RATE_LIMIT_PER_MINUTE must be an integer from 1 to 1000000 (got "0")',
      'CORS_ORIGINS entries must be origins like https://console.example.com (got "*")',
      'CORS_ORIGINS entries must be origins like https://console.example.com (got "https://x.example.com/path")',
      'TRUST_PROXY_HOPS must be an integer from 0 to 10 (got "yes")',
    ]);
  });

  it('envelope TTL and heartbeat: defaults, and a heartbeat not below the TTL names both variables', () => {
    expect(loadSettings({ DATA_DIR: dataDir }, warn)).toMatchObject({
      envelopeTtlMs: 7 * 24 * 3600 * 1000,
      heartbeatMs: 60_000,
    });
    expect(
      loadSettings(
        { DATA_DIR: dataDir, CONFIG_ENVELOPE_TTL_SECONDS: '60', CONFIG_HEARTBEAT_SECONDS: '0' },
        warn,
      ),
    ).toMatchObject({ envelopeTtlMs: 60_000, heartbeatMs: 0 });
    expect(
      errorOf({ CONFIG_ENVELOPE_TTL_SECONDS: '120', CONFIG_HEARTBEAT_SECONDS: '120' }).problems,
    ).toEqual([
      'CONFIG_HEARTBEAT_SECONDS (120) must be less than CONFIG_ENVELOPE_TTL_SECONDS (120), or payloads expire between heartbeats',
    ]);
    expect(errorOf({ CONFIG_ENVELOPE_TTL_SECONDS: '59' }).problems).toEqual([
      'CONFIG_ENVELOPE_TTL_SECONDS must be an integer from 60 to 315360000 (got "59")',
    ]);
  });
});
