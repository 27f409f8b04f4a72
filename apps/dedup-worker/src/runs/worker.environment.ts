import { join } from 'node:path';
import {
  EnvCheck,
  EnvDefault,
  EnvInteger,
  EnvNodeEnv,
  EnvPath,
  EnvString,
  EnvUrl,
  type NodeEnv,
} from '@app/contracts';
import { EnvLogFormat, EnvLogLevel, type LogFormat, type LogLevel } from '@app/logging';

/**
 * dedup-worker's own variables (its config, keys and broker are the SDK's:
 * ConfigClientEnvironment). State follows DATA_DIR: inbox and outbox default under it, the
 * processed/ and failed/ folders under the inbox.
 */
export class WorkerEnvironment {
  @EnvNodeEnv() NODE_ENV: NodeEnv = 'development';

  @EnvLogLevel() LOG_LEVEL: LogLevel = 'log';

  /** Unset: readable lines in development, JSON lines in production and test. */
  @EnvLogFormat() LOG_FORMAT!: LogFormat;

  @EnvPath() @EnvDefault('./data') DATA_DIR!: string;

  @EnvPath()
  @EnvDefault<WorkerEnvironment>((ctx) => join(ctx.values.DATA_DIR, 'inbox'))
  INPUT_DIR!: string;

  @EnvPath()
  @EnvDefault<WorkerEnvironment>((ctx) => join(ctx.values.DATA_DIR, 'outbox'))
  OUTPUT_DIR!: string;

  @EnvPath()
  @EnvDefault<WorkerEnvironment>((ctx) => join(ctx.values.INPUT_DIR, 'processed'))
  PROCESSED_DIR!: string;

  @EnvPath()
  @EnvDefault<WorkerEnvironment>((ctx) => join(ctx.values.INPUT_DIR, 'failed'))
  FAILED_DIR!: string;

  /** Quiet time after the last file arrived before a run starts (files are often written in bursts). */
  @EnvInteger({ min: 0, max: 600_000 }) RUN_DEBOUNCE_MS = 500;

  /** Larger input files are moved to failed/ unread. */
  @EnvInteger({ min: 1024, max: 2 ** 31 - 1 }) MAX_INPUT_FILE_BYTES = 50 * 1024 * 1024;

  /** Unset: Google's Gemini endpoint (the matcher's default). */
  @EnvUrl({ protocols: ['http', 'https'], description: 'an http(s)' }) AI_BASE_URL?: string;

  @EnvInteger({ min: 100, max: 600_000 }) AI_TIMEOUT_MS = 15_000;

  /** Most ambiguous pairs a run sends to the AI (the highest-scoring first). */
  @EnvInteger({ min: 0, max: 1_000_000 }) AI_MAX_PAIRS_PER_RUN = 200;

  /** Unset: no /metrics and /health endpoint. */
  @EnvInteger({ min: 0, max: 65535 }) METRICS_PORT?: number;

  @EnvString() METRICS_HOST = '0.0.0.0';

  /**
   * Test hook for rollouts' end-to-end tests: every run on a config version at least this one
   * fails (as a run that throws), so a rollout sees failed runs; refused in production.
   */
  @EnvInteger({ min: 1, max: Number.MAX_SAFE_INTEGER })
  @EnvCheck<number>((_version, ctx) =>
    ctx.production
      ? 'CHAOS_FAIL_RUNS_FROM_VERSION is a test hook and is refused in production'
      : undefined,
  )
  CHAOS_FAIL_RUNS_FROM_VERSION?: number;
}
