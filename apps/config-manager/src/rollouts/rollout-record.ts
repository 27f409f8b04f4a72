import type {
  RolloutCohort,
  RolloutEvent,
  RolloutInstanceState,
  RolloutState,
  RolloutStrategy,
  RolloutTrigger,
  RolloutView,
} from '@app/contracts';

/** A strategy with its defaults filled in. */
export interface Strategy extends RolloutStrategy {
  ackTimeoutSeconds: number;
  maxFailedRuns: number;
}

/** One step of a rollout, as it started (or not yet). */
export interface StepRecord {
  step: number;
  cohort: RolloutCohort;
  /** Everyone targeted once this step started (cumulative), in the rollout's sticky order. */
  instances: string[];
  startedAt: string | null;
  /** When every targeted instance had applied the candidate (the bake's seconds count from it). */
  ackedAt: string | null;
}

/** Where one targeted instance is. */
export interface InstanceRecord {
  instanceId: string;
  /** The step that first targeted it. */
  step: number;
  state: RolloutInstanceState;
}

/** A rollout as the state machine reads and writes it (one `rollouts` row). */
export interface RolloutRecord {
  id: string;
  service: string;
  version: number;
  stableVersion: number;
  strategy: Strategy;
  state: RolloutState;
  step: number;
  steps: StepRecord[];
  instances: InstanceRecord[];
  timeline: RolloutEvent[];
  rollbackVersion: number | null;
  trigger: RolloutTrigger | null;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  revision: number;
}

/** The states a rollout is active in: it holds the service's candidate topic and blocks plain writes. */
export const ACTIVE_STATES: readonly RolloutState[] = [
  'pending',
  'deploying',
  'baking',
  'paused',
  'rolling_back',
];

/** Whether a rollout in `state` is still active. */
export function isActive(state: RolloutState): boolean {
  return ACTIVE_STATES.includes(state);
}

/** The highest step whose candidate was published (0: none yet). */
export function publishedStep(record: RolloutRecord): StepRecord | undefined {
  return [...record.steps].reverse().find((s) => s.startedAt !== null);
}

/** GET …/rollouts/:id. */
export function toView(record: RolloutRecord): RolloutView {
  return {
    id: record.id,
    service: record.service,
    version: record.version,
    stableVersion: record.stableVersion,
    strategy: record.strategy,
    state: record.state,
    step: record.step,
    rollbackVersion: record.rollbackVersion,
    trigger: record.trigger,
    createdAt: record.createdAt,
    createdBy: record.createdBy,
    updatedAt: record.updatedAt,
    steps: record.steps.map(({ step, cohort, instances, startedAt }) => ({
      step,
      cohort,
      instances,
      startedAt,
    })),
    instances: record.instances,
    timeline: record.timeline,
  };
}
