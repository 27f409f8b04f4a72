// What the rollout screens say about a rollout: its state, which actions apply to it, its cohorts,
// bakes and triggers, and how many of today's instances a cohort would reach.
import type {
  InstanceView,
  RolloutCohort,
  RolloutState,
  RolloutStep,
  RolloutTrigger,
} from '../api/types';

/** The states a rollout can still move from (at most one per service is in one). */
const ACTIVE: ReadonlySet<RolloutState> = new Set([
  'pending',
  'deploying',
  'baking',
  'paused',
  'rolling_back',
]);

export function isActive(state: RolloutState): boolean {
  return ACTIVE.has(state);
}

export type RolloutAction = 'pause' | 'resume' | 'abort' | 'promote';

const ACTIONS: Record<RolloutAction, ReadonlySet<RolloutState>> = {
  pause: new Set(['pending', 'deploying', 'baking']),
  resume: new Set(['paused']),
  abort: new Set(['pending', 'deploying', 'baking', 'paused']),
  promote: new Set(['pending', 'deploying', 'baking', 'paused']),
};

/** Whether `action` applies to a rollout in `state` (docs/rollouts.md, the state machine). */
export function canAct(action: RolloutAction, state: RolloutState): boolean {
  return ACTIONS[action].has(state);
}

/** `rolled_back` → `rolled back`. */
export function stateLabel(state: string): string {
  return state.replaceAll('_', ' ');
}

/** `{ percent: 10 }` → `10 %`; `{ selector: { tier: 'canary' } }` → `tier=canary`. */
export function describeCohort(cohort: RolloutCohort): string {
  if ('instances' in cohort)
    return `${cohort.instances} ${cohort.instances === 1 ? 'instance' : 'instances'}`;
  if ('percent' in cohort) return `${cohort.percent} %`;
  if ('selector' in cohort)
    return Object.entries(cohort.selector)
      .map(([key, value]) => `${key}=${value}`)
      .join(', ');
  return 'everyone';
}

/** `{ runs: 2, seconds: 30 }` → `2 runs and 30 s`; no bake → `none`. */
export function describeBake(bake: RolloutStep['bake']): string {
  const parts = [
    bake?.runs === undefined ? undefined : `${bake.runs} ${bake.runs === 1 ? 'run' : 'runs'}`,
    bake?.seconds === undefined ? undefined : `${bake.seconds} s`,
  ].filter((part) => part !== undefined);
  return parts.length === 0 ? 'none' : parts.join(' and ');
}

/** `user:alice` → `alice`; `ack-timeout` → `ack timeout`. */
export function describeTrigger(trigger: RolloutTrigger | 'system'): string {
  return trigger.startsWith('user:') ? trigger.slice('user:'.length) : trigger.replaceAll('-', ' ');
}

/**
 * How many of the instances that are up now a cohort alone would reach, as the manager chooses
 * (offline ones never; a percent rounded up, at least one), of how many are up.
 */
export function cohortReach(
  cohort: RolloutCohort,
  instances: readonly Pick<InstanceView, 'status' | 'labels'>[],
): { count: number; of: number } {
  const up = instances.filter((instance) => instance.status !== 'offline');
  const of = up.length;
  if ('instances' in cohort) return { count: Math.min(cohort.instances, of), of };
  if ('percent' in cohort)
    return {
      count: of === 0 ? 0 : Math.min(of, Math.max(1, Math.ceil((cohort.percent * of) / 100))),
      of,
    };
  if ('selector' in cohort) {
    const wanted = Object.entries(cohort.selector);
    const count = up.filter((instance) =>
      wanted.every(([key, value]) => instance.labels[key] === value),
    ).length;
    return { count, of };
  }
  return { count: of, of };
}
