import {
  EnvironmentError,
  type EnvironmentVariables,
  MatchingConfig,
  readEnvironment,
} from '@app/contracts';
import {
  type ConfigClientLogger,
  ConfigClientError,
  ConfigClientErrorCode,
  type ConfigClientOptions,
  configClientOptionsFromEnv,
} from '@app/config-client';
import type { LoggingSettings } from '@app/logging';
import { WorkerEnvironment } from './worker.environment';

const APP = 'dedup-worker';

/** The worker's own input/output settings (its config arrives through the SDK). */
export interface WorkerSettings {
  inputDir: string;
  outputDir: string;
  processedDir: string;
  failedDir: string;
  /** Quiet time after the last file arrived before a run starts (files are often written in bursts). */
  debounceMs: number;
  /** Larger input files are moved to failed/ unread. */
  maxInputFileBytes: number;
  aiBaseUrl?: string;
  aiTimeoutMs: number;
  /** Most ambiguous pairs a run sends to the AI (the highest-scoring first). */
  aiMaxPairsPerRun: number;
  /** Port of the /metrics and /health endpoint; undefined: none. */
  metricsPort?: number;
  metricsHost: string;
  /** Process the files present at start, then exit. */
  once: boolean;
  /** Test hook (CHAOS_FAIL_RUNS_FROM_VERSION, refused in production): runs on this version or a later one fail. */
  chaosFailRunsFromVersion?: number;
  /** The worker's logger: the same AppLogger, formats and redaction as config-manager's. */
  logging: LoggingSettings;
}

/** Reads the worker's own variables (WorkerEnvironment) and `--once`; throws an EnvironmentError. */
export function loadWorkerSettings(
  env: EnvironmentVariables,
  argv: readonly string[],
): WorkerSettings {
  const { values: e } = readEnvironment(WorkerEnvironment, env);
  return {
    inputDir: e.INPUT_DIR,
    outputDir: e.OUTPUT_DIR,
    processedDir: e.PROCESSED_DIR,
    failedDir: e.FAILED_DIR,
    debounceMs: e.RUN_DEBOUNCE_MS,
    maxInputFileBytes: e.MAX_INPUT_FILE_BYTES,
    aiBaseUrl: e.AI_BASE_URL,
    aiTimeoutMs: e.AI_TIMEOUT_MS,
    aiMaxPairsPerRun: e.AI_MAX_PAIRS_PER_RUN,
    metricsPort: e.METRICS_PORT,
    metricsHost: e.METRICS_HOST,
    once: argv.includes('--once'),
    ...(e.CHAOS_FAIL_RUNS_FROM_VERSION === undefined
      ? {}
      : { chaosFailRunsFromVersion: e.CHAOS_FAIL_RUNS_FROM_VERSION }),
    logging: { app: APP, env: e.NODE_ENV, level: e.LOG_LEVEL, format: e.LOG_FORMAT },
  };
}

/**
 * Everything the worker reads at boot: the SDK's options (with MatchingConfig as the schema,
 * which the worker's code is written against) and its own settings, with the problems of both
 * in one EnvironmentError (so one start names every bad variable).
 */
export function loadWorkerEnvironment(
  env: EnvironmentVariables,
  argv: readonly string[],
  service: string,
  logger: ConfigClientLogger,
): { client: ConfigClientOptions<MatchingConfig>; settings: WorkerSettings } {
  const problems: string[] = [];
  const collect = <T>(read: () => T): T | undefined => {
    try {
      return read();
    } catch (error) {
      const invalid =
        error instanceof EnvironmentError ||
        (error instanceof ConfigClientError &&
          error.code === ConfigClientErrorCode.InvalidEnvironment);
      if (!invalid) throw error;
      problems.push(...error.problems);
      return undefined;
    }
  };
  const client = collect(() =>
    configClientOptionsFromEnv(env, { service, schema: MatchingConfig, logger }),
  );
  const settings = collect(() => loadWorkerSettings(env, argv));
  if (client === undefined || settings === undefined) throw new EnvironmentError(problems);
  return { client, settings };
}
