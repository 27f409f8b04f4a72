import {
  type ErrorDetail,
  type RolloutCohort,
  type RolloutStep,
  isPlainObject,
  LABEL_KEY_PATTERN,
  LABEL_VALUE_PATTERN,
  MAX_LABELS,
} from '@app/contracts';
import { DomainError, ErrorCode } from '../common/domain-error';
import { truncate } from '../common/text';
import type { Strategy } from './rollout-record';

/** Most steps a strategy may have. */
export const MAX_STEPS = 20;
/** Default seconds a targeted instance has to apply the candidate. */
export const DEFAULT_ACK_TIMEOUT_SECONDS = 60;
const MAX_SECONDS = 7 * 24 * 3600;
const MAX_COUNT = 1_000_000;

/** A rollout request, checked: the version and the strategy with its defaults. */
export interface ParsedRollout {
  version: number;
  strategy: Strategy;
}

const COHORT_KINDS = ['instances', 'percent', 'selector', 'all'] as const;

/**
 * Reads the body of POST …/rollouts (RolloutRequest). Every problem is collected and answered at
 * once as a 400 naming its field (`strategy.steps.1.cohort.percent`); nothing is written.
 */
export function parseRolloutRequest(body: unknown): ParsedRollout {
  const problems: ErrorDetail[] = [];
  const problem = (path: string, message: string) => problems.push({ path, message });
  if (!isPlainObject(body)) {
    throw invalid([
      { path: '', message: 'request body must be a JSON object { version, strategy }' },
    ]);
  }
  unknownFields(body, ['version', 'strategy'], '', problem);
  const version = integer(body.version, 'version', 1, 2_147_483_647, problem);
  const strategy = isPlainObject(body.strategy) ? body.strategy : undefined;
  if (!strategy)
    problem('strategy', 'strategy must be an object { steps, ackTimeoutSeconds?, maxFailedRuns? }');
  const steps: RolloutStep[] = [];
  let ackTimeoutSeconds = DEFAULT_ACK_TIMEOUT_SECONDS;
  let maxFailedRuns = 0;
  if (strategy) {
    unknownFields(strategy, ['steps', 'ackTimeoutSeconds', 'maxFailedRuns'], 'strategy', problem);
    if (strategy.ackTimeoutSeconds !== undefined) {
      ackTimeoutSeconds =
        integer(
          strategy.ackTimeoutSeconds,
          'strategy.ackTimeoutSeconds',
          1,
          MAX_SECONDS,
          problem,
        ) ?? ackTimeoutSeconds;
    }
    if (strategy.maxFailedRuns !== undefined) {
      maxFailedRuns =
        integer(strategy.maxFailedRuns, 'strategy.maxFailedRuns', 0, MAX_COUNT, problem) ?? 0;
    }
    if (!Array.isArray(strategy.steps) || strategy.steps.length === 0) {
      problem('strategy.steps', 'strategy.steps must be a non-empty array of steps');
    } else if (strategy.steps.length > MAX_STEPS) {
      problem('strategy.steps', `strategy.steps may have at most ${MAX_STEPS} steps`);
    } else {
      strategy.steps.forEach((raw: unknown, i: number) => {
        const step = parseStep(raw, `strategy.steps.${i}`, problem);
        if (step) steps.push(step);
      });
      checkLastStep(strategy.steps as unknown[], steps, problem);
    }
  }
  if (problems.length > 0 || version === undefined) throw invalid(problems);
  return { version, strategy: { steps, ackTimeoutSeconds, maxFailedRuns } };
}

/** Whether a cohort reaches everyone (what the last step must do). */
export function reachesEveryone(cohort: RolloutCohort): boolean {
  return (
    ('all' in cohort && cohort.all === true) || ('percent' in cohort && cohort.percent === 100)
  );
}

/** How a cohort reads in a message: `{ "tier": "canary" }`, `10 %`, `3 instances`, `everyone`. */
export function describeCohort(cohort: RolloutCohort): string {
  if ('instances' in cohort) return `${cohort.instances} instance(s)`;
  if ('percent' in cohort) return `${cohort.percent} %`;
  if ('selector' in cohort) return `selector ${JSON.stringify(cohort.selector)}`;
  return 'everyone';
}

function parseStep(
  raw: unknown,
  path: string,
  problem: (path: string, message: string) => void,
): RolloutStep | undefined {
  if (!isPlainObject(raw)) {
    problem(path, `${path} must be an object { cohort, bake? }`);
    return undefined;
  }
  unknownFields(raw, ['cohort', 'bake'], path, problem);
  const cohort = parseCohort(raw.cohort, `${path}.cohort`, problem);
  let bake: RolloutStep['bake'];
  if (raw.bake !== undefined) {
    if (!isPlainObject(raw.bake)) {
      problem(`${path}.bake`, `${path}.bake must be an object { runs?, seconds? }`);
    } else {
      unknownFields(raw.bake, ['runs', 'seconds'], `${path}.bake`, problem);
      const runs =
        raw.bake.runs === undefined
          ? undefined
          : integer(raw.bake.runs, `${path}.bake.runs`, 1, MAX_COUNT, problem);
      const seconds =
        raw.bake.seconds === undefined
          ? undefined
          : integer(raw.bake.seconds, `${path}.bake.seconds`, 1, MAX_SECONDS, problem);
      bake = {
        ...(runs === undefined ? {} : { runs }),
        ...(seconds === undefined ? {} : { seconds }),
      };
      if (bake.runs === undefined && bake.seconds === undefined) bake = undefined;
    }
  }
  if (!cohort) return undefined;
  return { cohort, ...(bake ? { bake } : {}) };
}

function parseCohort(
  raw: unknown,
  path: string,
  problem: (path: string, message: string) => void,
): RolloutCohort | undefined {
  const shapes =
    '{ instances: n }, { percent: p }, { selector: { label: value } } or { all: true }';
  if (!isPlainObject(raw)) {
    problem(path, `${path} must be one of ${shapes}`);
    return undefined;
  }
  const keys = Object.keys(raw);
  const kinds = keys.filter((k): k is (typeof COHORT_KINDS)[number] =>
    (COHORT_KINDS as readonly string[]).includes(k),
  );
  unknownFields(raw, COHORT_KINDS, path, problem);
  if (kinds.length !== 1) {
    problem(path, `${path} must be exactly one of ${shapes}`);
    return undefined;
  }
  const kind = kinds[0];
  const at = `${path}.${kind}`;
  switch (kind) {
    case 'instances': {
      const n = integer(raw.instances, at, 1, MAX_COUNT, problem);
      return n === undefined ? undefined : { instances: n };
    }
    case 'percent': {
      const p = raw.percent;
      if (typeof p !== 'number' || !Number.isFinite(p) || p <= 0 || p > 100) {
        problem(at, `${at} must be a number above 0 and at most 100`);
        return undefined;
      }
      return { percent: p };
    }
    case 'selector':
      return parseSelector(raw.selector, at, problem);
    case 'all':
      if (raw.all !== true) {
        problem(at, `${at} must be true`);
        return undefined;
      }
      return { all: true };
  }
}

function parseSelector(
  raw: unknown,
  path: string,
  problem: (path: string, message: string) => void,
): RolloutCohort | undefined {
  if (!isPlainObject(raw) || Object.keys(raw).length === 0) {
    problem(path, `${path} must be a non-empty object { "<label>": "<value>" }`);
    return undefined;
  }
  const entries = Object.entries(raw);
  if (entries.length > MAX_LABELS) {
    problem(path, `${path} may name at most ${MAX_LABELS} labels`);
    return undefined;
  }
  let ok = true;
  for (const [key, value] of entries) {
    if (!LABEL_KEY_PATTERN.test(key)) {
      problem(
        `${path}.${truncate(key)}`,
        `label "${truncate(key)}" must match ${String(LABEL_KEY_PATTERN)}`,
      );
      ok = false;
    } else if (typeof value !== 'string' || !LABEL_VALUE_PATTERN.test(value)) {
      problem(
        `${path}.${key}`,
        `${path}.${key} must be a string matching ${String(LABEL_VALUE_PATTERN)}`,
      );
      ok = false;
    }
  }
  return ok ? { selector: raw as Record<string, string> } : undefined;
}

/** The last step reaches everyone and does not bake (it completes the rollout). */
function checkLastStep(
  raw: unknown[],
  steps: RolloutStep[],
  problem: (path: string, message: string) => void,
): void {
  if (steps.length !== raw.length) return; // a step is already refused
  const last = steps[steps.length - 1];
  if (!reachesEveryone(last.cohort)) {
    problem(
      'strategy.steps',
      `the last step must reach everyone ({ "all": true } or { "percent": 100 }), not ${describeCohort(last.cohort)}: ` +
        'it publishes the version on the stable topic',
    );
  } else if (last.bake) {
    problem(
      `strategy.steps.${steps.length - 1}.bake`,
      'the last step completes the rollout (the version becomes current for everyone): it cannot bake',
    );
  }
}

function unknownFields(
  object: Record<string, unknown>,
  known: readonly string[],
  path: string,
  problem: (path: string, message: string) => void,
): void {
  for (const key of Object.keys(object)) {
    if (known.includes(key)) continue;
    const at = path ? `${path}.${truncate(key)}` : truncate(key);
    problem(at, `${at} is not a field here (known: ${known.join(', ')})`);
  }
}

function integer(
  value: unknown,
  path: string,
  min: number,
  max: number,
  problem: (path: string, message: string) => void,
): number | undefined {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    problem(path, `${path} must be an integer from ${min} to ${max}`);
    return undefined;
  }
  return value;
}

function invalid(details: ErrorDetail[]): DomainError {
  return new DomainError(
    ErrorCode.ValidationFailed,
    `Invalid rollout: ${details.map((d) => d.message).join('; ')}`,
    details,
  );
}
