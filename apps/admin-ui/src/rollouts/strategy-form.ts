// The rollout form's strategy as the admin types it (strings, so a half-typed number stays as
// typed), checked as the manager checks a RolloutRequest (docs/rollouts.md), and the manager's
// refusals placed at the inputs they name. Problems are keyed by "slots", the request's dotted
// paths that have an input: `strategy.steps` (the list), `strategy.steps.0` (a step),
// `strategy.steps.0.cohort`, `strategy.steps.0.bake.runs`, `strategy.ackTimeoutSeconds`, …
import type { ErrorDetail, RolloutCohort, RolloutStep, RolloutStrategy } from '../api/types';

/** Who a step targets, as the form's select names it. */
export type CohortKind = 'instances' | 'percent' | 'selector' | 'all';

export interface StepDraft {
  kind: CohortKind;
  /** The number of instances, or the percent, as typed. */
  amount: string;
  /** The labels to match, `tier=canary, region=eu`, as typed. */
  selector: string;
  /** Completed runs on the new version, as typed; empty: no run bake. */
  runs: string;
  /** Seconds after the cohort acknowledged, as typed; empty: no time bake. */
  seconds: string;
}

export interface StrategyDraft {
  steps: StepDraft[];
  /** Empty: the manager's default. */
  ackTimeoutSeconds: string;
  /** Empty: the manager's default. */
  maxFailedRuns: string;
}

/** Problems by slot; `''` is the form as a whole. */
export type StrategyErrors = Record<string, string>;

/** Most steps a strategy may have. */
export const MAX_STEPS = 20;
/** Largest bake (seconds) and ack timeout accepted: a week. */
export const MAX_SECONDS = 7 * 24 * 3600;
/** Largest instance count, run bake and failed-run threshold accepted. */
export const MAX_COUNT = 1_000_000;
/** The manager's ack timeout when the form leaves it empty. */
export const DEFAULT_ACK_TIMEOUT_SECONDS = 60;
/** The manager's instance-label patterns (libs/contracts LABEL_*_PATTERN; the spec proves they agree). */
export const LABEL_KEY = /^[a-z][a-z0-9_.-]{0,62}$/;
export const LABEL_VALUE = /^[A-Za-z0-9_.:-]{0,63}$/;
/** Most labels a selector names (as many as an instance can carry). */
export const MAX_SELECTOR_LABELS = 16;

export const slots = {
  steps: 'strategy.steps',
  step: (index: number) => `strategy.steps.${index}`,
  cohort: (index: number) => `strategy.steps.${index}.cohort`,
  runs: (index: number) => `strategy.steps.${index}.bake.runs`,
  seconds: (index: number) => `strategy.steps.${index}.bake.seconds`,
  ackTimeout: 'strategy.ackTimeoutSeconds',
  maxFailedRuns: 'strategy.maxFailedRuns',
} as const;

/** The DOM id of the input (or heading) a slot's problem is shown at and focus goes to. */
export function slotId(slot: string): string {
  return slot === '' ? 'rollout-form-error' : `rollout-${slot.replaceAll('.', '-')}`;
}

/** The slot checked first in the form's reading order: where focus goes after a refused submit. */
export function firstSlot(errors: StrategyErrors, stepCount: number): string | undefined {
  const order = [
    slots.steps,
    ...Array.from({ length: stepCount }, (_, index) => [
      slots.step(index),
      slots.cohort(index),
      slots.runs(index),
      slots.seconds(index),
    ]).flat(),
    slots.ackTimeout,
    slots.maxFailedRuns,
    '',
  ];
  return order.find((slot) => errors[slot] !== undefined);
}

/** A new, empty step targeting everyone. */
export function emptyStep(kind: CohortKind = 'all'): StepDraft {
  return { kind, amount: '', selector: '', runs: '', seconds: '' };
}

/** The form's values for a strategy (a preset, or the strategy of an earlier rollout). */
export function draftOf(strategy: RolloutStrategy): StrategyDraft {
  return {
    steps: strategy.steps.map(stepDraftOf),
    ackTimeoutSeconds: numberText(strategy.ackTimeoutSeconds),
    maxFailedRuns: numberText(strategy.maxFailedRuns),
  };
}

function stepDraftOf(step: RolloutStep): StepDraft {
  const draft = {
    ...emptyStep(),
    runs: numberText(step.bake?.runs),
    seconds: numberText(step.bake?.seconds),
  };
  const cohort = step.cohort;
  if ('instances' in cohort)
    return { ...draft, kind: 'instances', amount: String(cohort.instances) };
  if ('percent' in cohort) return { ...draft, kind: 'percent', amount: String(cohort.percent) };
  if ('selector' in cohort)
    return { ...draft, kind: 'selector', selector: selectorText(cohort.selector) };
  return draft;
}

/** `{ tier: 'canary', region: 'eu' }` → `tier=canary, region=eu`. */
export function selectorText(selector: Readonly<Record<string, string>>): string {
  return Object.entries(selector)
    .map(([key, value]) => `${key}=${value}`)
    .join(', ');
}

/** `tier=canary, region=eu` → the labels, or why it is not a selector. */
export function parseSelector(
  text: string,
): { labels: Record<string, string> } | { problem: string } {
  const pairs = text
    .split(',')
    .map((pair) => pair.trim())
    .filter((pair) => pair !== '');
  if (pairs.length === 0) return { problem: 'name at least one label, as key=value' };
  if (pairs.length > MAX_SELECTOR_LABELS)
    return { problem: `at most ${MAX_SELECTOR_LABELS} labels` };
  const labels: Record<string, string> = {};
  for (const pair of pairs) {
    const equals = pair.indexOf('=');
    if (equals < 0) return { problem: `"${pair}" is not key=value` };
    const key = pair.slice(0, equals).trim();
    const value = pair.slice(equals + 1).trim();
    if (!LABEL_KEY.test(key))
      return {
        problem: `label key "${key}": lower-case letter first, then a-z, 0-9, _ . - (at most 63)`,
      };
    if (!LABEL_VALUE.test(value))
      return { problem: `label value "${value}": A-Z, a-z, 0-9, _ . : - (at most 63)` };
    if (Object.hasOwn(labels, key)) return { problem: `label key "${key}" given twice` };
    labels[key] = value;
  }
  return { labels };
}

/** The request's strategy when the draft is valid, else the problems by slot. */
export function checkStrategy(
  draft: StrategyDraft,
):
  | { strategy: RolloutStrategy; errors: StrategyErrors }
  | { strategy?: undefined; errors: StrategyErrors } {
  const errors: StrategyErrors = {};
  const steps: RolloutStep[] = [];
  draft.steps.forEach((step, index) => {
    const cohort = checkCohort(step, index, errors);
    const runs = wholeNumber(step.runs, 1, MAX_COUNT, slots.runs(index), errors);
    const seconds = wholeNumber(step.seconds, 1, MAX_SECONDS, slots.seconds(index), errors);
    if (cohort === undefined) return;
    const bake = {
      ...(runs === undefined ? {} : { runs }),
      ...(seconds === undefined ? {} : { seconds }),
    };
    steps.push(Object.keys(bake).length === 0 ? { cohort } : { cohort, bake });
  });
  if (draft.steps.length === 0) errors[slots.steps] = 'add at least one step';
  else if (draft.steps.length > MAX_STEPS) errors[slots.steps] = `at most ${MAX_STEPS} steps`;
  else if (!reachesEveryone(draft.steps[draft.steps.length - 1]))
    errors[slots.steps] = 'the last step must reach everyone (all instances, or 100 %)';
  else if (hasBake(draft.steps[draft.steps.length - 1]) && steps.length === draft.steps.length)
    errors[slots.step(draft.steps.length - 1)] =
      'the last step completes the rollout (the version becomes current for everyone): it cannot bake';
  const ackTimeoutSeconds = wholeNumber(
    draft.ackTimeoutSeconds,
    1,
    MAX_SECONDS,
    slots.ackTimeout,
    errors,
  );
  const maxFailedRuns = wholeNumber(draft.maxFailedRuns, 0, MAX_COUNT, slots.maxFailedRuns, errors);
  if (Object.keys(errors).length > 0) return { errors };
  return {
    errors,
    strategy: {
      steps,
      ...(ackTimeoutSeconds === undefined ? {} : { ackTimeoutSeconds }),
      ...(maxFailedRuns === undefined ? {} : { maxFailedRuns }),
    },
  };
}

function hasBake(step: StepDraft): boolean {
  return step.runs.trim() !== '' || step.seconds.trim() !== '';
}

function reachesEveryone(step: StepDraft): boolean {
  return step.kind === 'all' || (step.kind === 'percent' && Number(step.amount.trim()) === 100);
}

function checkCohort(
  step: StepDraft,
  index: number,
  errors: StrategyErrors,
): RolloutCohort | undefined {
  const slot = slots.cohort(index);
  switch (step.kind) {
    case 'all':
      return { all: true };
    case 'instances': {
      if (step.amount.trim() === '') {
        errors[slot] = 'how many instances? (at least 1)';
        return undefined;
      }
      const instances = wholeNumber(step.amount, 1, MAX_COUNT, slot, errors);
      return instances === undefined ? undefined : { instances };
    }
    case 'percent': {
      const text = step.amount.trim();
      const percent = Number(text);
      if (!/^\d+(\.\d+)?$/.test(text) || !(percent > 0 && percent <= 100)) {
        errors[slot] = 'a percent greater than 0 and at most 100';
        return undefined;
      }
      return { percent };
    }
    case 'selector': {
      const parsed = parseSelector(step.selector);
      if ('problem' in parsed) {
        errors[slot] = parsed.problem;
        return undefined;
      }
      return { selector: parsed.labels };
    }
  }
}

/** A whole number in [min, max] typed in `text`; empty is undefined (left out of the request). */
function wholeNumber(
  text: string,
  min: number,
  max: number,
  slot: string,
  errors: StrategyErrors,
): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  const value = Number(trimmed);
  // `100.0` is the integer 100, as the manager reads the number.
  if (!/^\d+(\.\d+)?$/.test(trimmed) || !Number.isInteger(value) || value < min || value > max) {
    errors[slot] = `a whole number from ${min} to ${max}`;
    return undefined;
  }
  return value;
}

function numberText(value: number | undefined): string {
  return value === undefined ? '' : String(value);
}

/**
 * The manager's error details by the slot of the form nearest to the path each names
 * (`strategy.steps.1.cohort.percent` at step 2's cohort); the rest, and a refusal without
 * details, under `''` for the form as a whole. A detail's path is kept when it is not its slot's.
 */
export function placeServerErrors(
  details: readonly ErrorDetail[],
  fallback: string,
  stepCount: number,
): StrategyErrors {
  const known = new Set<string>([slots.steps, slots.ackTimeout, slots.maxFailedRuns]);
  for (let index = 0; index < stepCount; index++) {
    for (const slot of [
      slots.step(index),
      slots.cohort(index),
      slots.runs(index),
      slots.seconds(index),
    ])
      known.add(slot);
  }
  const placed: StrategyErrors = {};
  const add = (slot: string, message: string) => {
    placed[slot] = placed[slot] ? `${placed[slot]}; ${message}` : message;
  };
  for (const detail of details) {
    const path = /^(steps|ackTimeoutSeconds|maxFailedRuns)\b/.test(detail.path)
      ? `strategy.${detail.path}`
      : detail.path;
    let slot = path;
    while (slot !== '' && !known.has(slot))
      slot = slot.includes('.') ? slot.slice(0, slot.lastIndexOf('.')) : '';
    const message = withoutPath(detail);
    add(slot, slot === '' || slot === path ? message : `${message} (${detail.path})`);
  }
  if (details.length === 0) add('', fallback);
  return placed;
}

function withoutPath(detail: ErrorDetail): string {
  return detail.path !== '' && detail.message.startsWith(`${detail.path} `)
    ? detail.message.slice(detail.path.length + 1)
    : detail.message;
}
