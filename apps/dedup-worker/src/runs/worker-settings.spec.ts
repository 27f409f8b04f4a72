import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { EnvironmentError, MatchingConfig } from '@app/contracts';
import { generateSigningKeyPair } from '@app/crypto';
import { loadWorkerEnvironment, loadWorkerSettings } from './worker-settings';

const silent = { log: () => undefined, warn: () => undefined, error: () => undefined };

function problemsOf(read: () => unknown): readonly string[] {
  try {
    read();
  } catch (error) {
    if (error instanceof EnvironmentError) return error.problems;
    throw error;
  }
  throw new Error('expected an EnvironmentError');
}

describe(loadWorkerSettings.name, () => {
  it('keeps every default path of state under DATA_DIR', () => {
    const sut = loadWorkerSettings({ DATA_DIR: '/var/lib/dedup' }, []);

    expect(sut).toEqual({
      inputDir: '/var/lib/dedup/inbox',
      outputDir: '/var/lib/dedup/outbox',
      processedDir: '/var/lib/dedup/inbox/processed',
      failedDir: '/var/lib/dedup/inbox/failed',
      debounceMs: 500,
      maxInputFileBytes: 52428800,
      aiBaseUrl: undefined,
      aiTimeoutMs: 15000,
      aiMaxPairsPerRun: 200,
      metricsPort: undefined,
      metricsHost: '0.0.0.0',
      once: false,
      logging: { app: 'dedup-worker', env: 'development', level: 'log', format: 'pretty' },
    });
    expect(loadWorkerSettings({}, ['--once'])).toMatchObject({
      inputDir: join(process.cwd(), 'data', 'inbox'),
      once: true,
    });
  });

  it('puts processed/ and failed/ under an INPUT_DIR that is set', () => {
    expect(loadWorkerSettings({ INPUT_DIR: '/srv/inbox', DATA_DIR: '/d' }, [])).toMatchObject({
      inputDir: '/srv/inbox',
      outputDir: '/d/outbox',
      processedDir: '/srv/inbox/processed',
      failedDir: '/srv/inbox/failed',
    });
  });

  it('names every bad variable at once', () => {
    expect(
      problemsOf(() =>
        loadWorkerSettings(
          { RUN_DEBOUNCE_MS: 'soon', AI_BASE_URL: 'gemini', METRICS_PORT: '70000' },
          [],
        ),
      ),
    ).toEqual([
      'RUN_DEBOUNCE_MS must be an integer from 0 to 600000 (got "soon")',
      'AI_BASE_URL must be an http(s) URL',
      'METRICS_PORT must be an integer from 0 to 65535 (got "70000")',
    ]);
  });

  it('honours the rollout test hook CHAOS_FAIL_RUNS_FROM_VERSION only outside production', () => {
    expect(loadWorkerSettings({}, [])).not.toHaveProperty('chaosFailRunsFromVersion');
    expect(
      loadWorkerSettings({ CHAOS_FAIL_RUNS_FROM_VERSION: '3' }, []).chaosFailRunsFromVersion,
    ).toBe(3);
    expect(
      problemsOf(() =>
        loadWorkerSettings({ NODE_ENV: 'production', CHAOS_FAIL_RUNS_FROM_VERSION: '3' }, []),
      ),
    ).toEqual(['CHAOS_FAIL_RUNS_FROM_VERSION is a test hook and is refused in production']);
    expect(problemsOf(() => loadWorkerSettings({ CHAOS_FAIL_RUNS_FROM_VERSION: '0' }, []))).toEqual(
      [expect.stringMatching(/^CHAOS_FAIL_RUNS_FROM_VERSION must be an integer from 1 to/)],
    );
  });
});

describe(loadWorkerEnvironment.name, () => {
  const valid = {
    NODE_ENV: 'production',
    MQTT_URL: 'mqtt://broker:1883',
    INSTANCE_ID: 'w-1',
    CONFIG_TRUSTED_KEYS: `k:${generateSigningKeyPair().publicKey.toString('base64')}`,
    LKG_HMAC_KEY: randomBytes(32).toString('base64'),
    DATA_DIR: '/var/lib/dedup',
  };

  it('reads the SDK options and the worker settings from one environment', () => {
    const sut = loadWorkerEnvironment(valid, [], 'dedup-worker', silent);

    expect(sut.client).toMatchObject({
      service: 'dedup-worker',
      schema: MatchingConfig,
      lkgPath: '/var/lib/dedup/dedup-worker.w-1.lkg.json',
    });
    expect(sut.settings.inputDir).toBe('/var/lib/dedup/inbox');
  });

  it('passes INSTANCE_LABELS to the SDK, and names it when it is bad', () => {
    const env = { ...valid, INSTANCE_LABELS: 'region=eu,tier=canary' };

    expect(loadWorkerEnvironment(env, [], 'dedup-worker', silent).client.labels).toEqual({
      region: 'eu',
      tier: 'canary',
    });
    expect(
      problemsOf(() =>
        loadWorkerEnvironment(
          { ...valid, INSTANCE_LABELS: 'Tier=canary' },
          [],
          'dedup-worker',
          silent,
        ),
      ),
    ).toEqual([expect.stringMatching(/^INSTANCE_LABELS key "Tier" must match/)]);
  });

  it("names the SDK's and the worker's bad variables in one error", () => {
    const problems = problemsOf(() =>
      loadWorkerEnvironment(
        { ...valid, MQTT_URL: 'http://broker', AI_TIMEOUT_MS: '1' },
        [],
        'dedup-worker',
        silent,
      ),
    );

    expect(problems).toEqual([
      'MQTT_URL must be an mqtt://, mqtts://, ws:// or wss:// URL',
      'AI_TIMEOUT_MS must be an integer from 100 to 600000 (got "1")',
    ]);
  });
});
