import { resolve } from 'node:path';

type Env = Readonly<Record<string, string | undefined>>;

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
}

/** Thrown for unusable worker settings; names every bad variable. */
export class WorkerSettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid environment variables:\n  - ${problems.join('\n  - ')}`);
    this.name = 'WorkerSettingsError';
  }
}

function integer(
  env: Env,
  name: string,
  fallback: number,
  min: number,
  max: number,
  problems: string[],
): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    problems.push(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
    return fallback;
  }
  return value;
}

/** Reads INPUT_DIR, OUTPUT_DIR, … and `--once`; directories default under DATA_DIR. */
export function loadWorkerSettings(env: Env, argv: readonly string[]): WorkerSettings {
  const problems: string[] = [];
  const dataDir = resolve(env.DATA_DIR?.trim() || './data');
  const inputDir = resolve(env.INPUT_DIR?.trim() || `${dataDir}/inbox`);
  const aiBaseUrl = env.AI_BASE_URL?.trim() || undefined;
  if (aiBaseUrl && !/^https?:\/\/\S+$/.test(aiBaseUrl))
    problems.push('AI_BASE_URL must be an http(s) URL');
  const settings: WorkerSettings = {
    inputDir,
    outputDir: resolve(env.OUTPUT_DIR?.trim() || `${dataDir}/outbox`),
    processedDir: resolve(env.PROCESSED_DIR?.trim() || `${inputDir}/processed`),
    failedDir: resolve(env.FAILED_DIR?.trim() || `${inputDir}/failed`),
    debounceMs: integer(env, 'RUN_DEBOUNCE_MS', 500, 0, 600_000, problems),
    maxInputFileBytes: integer(
      env,
      'MAX_INPUT_FILE_BYTES',
      50 * 1024 * 1024,
      1024,
      2 ** 31 - 1,
      problems,
    ),
    aiBaseUrl,
    aiTimeoutMs: integer(env, 'AI_TIMEOUT_MS', 15_000, 100, 600_000, problems),
    aiMaxPairsPerRun: integer(env, 'AI_MAX_PAIRS_PER_RUN', 200, 0, 1_000_000, problems),
    metricsPort: env.METRICS_PORT?.trim()
      ? integer(env, 'METRICS_PORT', 9464, 0, 65535, problems)
      : undefined,
    metricsHost: env.METRICS_HOST?.trim() || '0.0.0.0',
    once: argv.includes('--once'),
  };
  if (problems.length > 0) throw new WorkerSettingsError(problems);
  return settings;
}
