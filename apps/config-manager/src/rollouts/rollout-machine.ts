import type {
  InstanceView,
  RolloutEvent,
  RolloutInstanceState,
  RolloutState,
  RolloutTrigger,
} from '@app/contracts';
import { DomainError, ErrorCode } from '../common/domain-error';
import { eligible, inStickyOrder, selectCohort } from './cohorts';
import { describeCohort } from './rollout-request';
import {
  isActive,
  type InstanceRecord,
  type RolloutRecord,
  type StepRecord,
} from './rollout-record';

/** Who moved a rollout: a user (`user:<name>`), a trigger, or the machine itself. */
export type Actor = RolloutTrigger | 'system';

/** What the state machine sees: the instance view of the rollout's service, and the time. */
export interface Observation {
  fleet: readonly InstanceView[];
  now: Date;
}

/** What the driver does after persisting a move. */
export type Effect =
  /** Nothing beyond persisting (if changed). */
  | { kind: 'none' }
  /** Publish the candidate for the current step. */
  | { kind: 'publish' }
  /** The rollout is rolling back: make the rollback version and end it `rolled_back`. */
  | { kind: 'roll-back' }
  /** The last step: the candidate becomes the current version and the rollout `complete`. */
  | { kind: 'complete'; by: Actor };

/** A rollout after one look at the fleet (or one request): the new record and what to do. */
export interface Move {
  record: RolloutRecord;
  /** Whether `record` differs from the one the move started from (it must be persisted). */
  changed: boolean;
  effect: Effect;
}

/** Most timeline entries a rollout keeps (the oldest go first). */
const MAX_TIMELINE = 200;
/** Most instance ids a timeline message names. */
const NAMED_IN_MESSAGE = 5;

/**
 * The rollout state machine (docs/rollouts.md), pure: given a rollout and what its service's
 * instances report, the next state and the effect the driver carries out. `pending` starts step
 * 1; `deploying` waits for every targeted instance to apply the candidate, then `baking` waits
 * for the bake; the last step completes. The triggers (a rejection, the ack timeout, failed runs)
 * roll back, or pause when nothing was heard from any targeted instance.
 */
export function advance(record: RolloutRecord, seen: Observation): Move {
  switch (record.state) {
    case 'pending':
      return startStep(record, 1, seen, 'system');
    case 'deploying':
    case 'baking':
      return watch(record, seen);
    case 'rolling_back':
      return { record, changed: false, effect: { kind: 'roll-back' } };
    default:
      return unchanged(record);
  }
}

/** Starts step `k` (also a resumed one): picks its cohort, or completes on the last step. */
export function startStep(
  record: RolloutRecord,
  k: number,
  seen: Observation,
  by: Actor,
  prefix = '',
): Move {
  const { steps } = record.strategy;
  if (k >= steps.length) return { record, changed: false, effect: { kind: 'complete', by } };
  const at = seen.now.toISOString();
  const cohort = steps[k - 1].cohort;
  const chosen = selectCohort(record.id, cohort, eligible(seen.fleet));
  if (chosen.length === 0) {
    return moved(
      withEvent({ ...record, step: k }, 'paused', 'empty-cohort', at, {
        trigger: 'empty-cohort',
        message:
          `${prefix}step ${k}'s cohort (${describeCohort(cohort)}) matches no instance that is up: paused. ` +
          'Resume once instances are back, or promote or abort the rollout',
      }),
      { kind: 'none' },
    );
  }
  const targeted = inStickyOrder(record.id, [
    ...record.instances.map((i) => i.instanceId),
    ...chosen,
  ]);
  const known = new Set(record.instances.map((i) => i.instanceId));
  const instances: InstanceRecord[] = [
    ...record.instances,
    ...targeted
      .filter((id) => !known.has(id))
      .map((instanceId) => ({ instanceId, step: k, state: 'pending' as const })),
  ];
  const started: StepRecord = {
    ...record.steps[k - 1],
    instances: targeted,
    startedAt: at,
    ackedAt: null,
  };
  const next = withEvent(
    {
      ...record,
      step: k,
      steps: record.steps.map((s) => (s.step === k ? started : s)),
      instances,
    },
    'deploying',
    by,
    at,
    {
      message: `${prefix}step ${k} (${describeCohort(cohort)}): v${record.version} published to ${named(targeted)}`,
    },
  );
  return moved(next, { kind: 'publish' });
}

/** A user pauses the rollout (a paused one stays paused). */
export function pause(record: RolloutRecord, by: Actor, now: Date): Move {
  if (record.state === 'paused') return unchanged(record);
  if (!['pending', 'deploying', 'baking'].includes(record.state))
    throw notApplicable(record, 'paused');
  return moved(
    withEvent(record, 'paused', by, now.toISOString(), {
      trigger: by === 'system' ? null : by,
      message: `paused at step ${record.step} by ${by}`,
    }),
    { kind: 'none' },
  );
}

/** A user resumes a paused rollout: its current step starts again (a running one goes on). */
export function resume(record: RolloutRecord, by: Actor, seen: Observation): Move {
  if (['pending', 'deploying', 'baking'].includes(record.state)) return unchanged(record);
  if (record.state !== 'paused') throw notApplicable(record, 'resumed');
  return startStep(record, Math.max(record.step, 1), seen, by, `resumed by ${by}: `);
}

/** A user skips to the last step: the candidate becomes current for everyone. */
export function promote(record: RolloutRecord, by: Actor): Move {
  if (!['pending', 'deploying', 'baking', 'paused'].includes(record.state)) {
    throw notApplicable(record, 'promoted');
  }
  return { record, changed: false, effect: { kind: 'complete', by } };
}

/** Whether a user may abort the rollout now. */
export function checkAbort(record: RolloutRecord): void {
  if (!isActive(record.state) || record.state === 'rolling_back')
    throw notApplicable(record, 'aborted');
}

/** `record` in `state` with a timeline entry (and the trigger, when given). */
export function withEvent(
  record: RolloutRecord,
  state: RolloutState,
  by: Actor,
  at: string,
  change: { message: string; trigger?: RolloutTrigger | null },
): RolloutRecord {
  const event: RolloutEvent = { at, state, step: record.step, by, message: change.message };
  return {
    ...record,
    state,
    trigger: change.trigger === undefined ? record.trigger : change.trigger,
    timeline: [...record.timeline, event].slice(-MAX_TIMELINE),
    updatedAt: at,
  };
}

/** The timeline entries `after` has that `before` had not. */
export function newEvents(before: RolloutRecord, after: RolloutRecord): RolloutEvent[] {
  const known = new Set(before.timeline.map((e) => JSON.stringify(e)));
  return after.timeline.filter((e) => !known.has(JSON.stringify(e)));
}

/** Deploying or baking: the triggers first, then acknowledgement, then the bake. */
function watch(record: RolloutRecord, seen: Observation): Move {
  const step = record.steps[record.step - 1];
  const startedAt = step.startedAt ?? record.updatedAt;
  const views = new Map(seen.fleet.map((v) => [v.instanceId, v]));
  const { ackTimeoutSeconds, maxFailedRuns } = record.strategy;
  const bake = record.strategy.steps[record.step - 1].bake;
  const candidate = record.version;
  const at = seen.now.toISOString();
  const pastDeadline = seen.now.getTime() >= Date.parse(startedAt) + ackTimeoutSeconds * 1000;

  const rejected = step.instances.filter((id) => {
    const rejection = views.get(id)?.lastRejection;
    return (
      rejection !== undefined &&
      rejection !== null &&
      rejection.at >= startedAt &&
      (rejection.version === undefined || rejection.version === candidate)
    );
  });
  const failed = step.instances.filter((id) => {
    const runs = views.get(id)?.runs;
    return runs?.version === candidate && runs.failed > maxFailedRuns;
  });
  const unacknowledged = step.instances.filter((id) => {
    const view = views.get(id);
    return !view || view.appliedVersion !== candidate || view.status === 'offline';
  });
  const baked = (id: string) => {
    const runs = views.get(id)?.runs;
    return bake?.runs === undefined || (runs?.version === candidate && runs.completed >= bake.runs);
  };
  const states = (mark: Partial<Record<string, RolloutInstanceState>>, phase: RolloutState) =>
    record.instances.map((instance): InstanceRecord => {
      if (!step.instances.includes(instance.instanceId)) return instance;
      const state =
        mark[instance.instanceId] ??
        (unacknowledged.includes(instance.instanceId)
          ? 'pending'
          : baked(instance.instanceId)
            ? 'done'
            : phase === 'baking'
              ? 'baking'
              : 'applied');
      return { ...instance, state };
    });

  if (rejected.length > 0) {
    const reasons = rejected.map((id) => `${id} (${views.get(id)?.lastRejection?.reason ?? '?'})`);
    return rollBack(record, 'rejection', at, states(marks(rejected, 'rejected'), record.state), {
      message: `${named(reasons)} rejected v${candidate}: rolling back`,
    });
  }
  if (failed.length > 0) {
    const counts = failed.map((id) => `${id} (${views.get(id)?.runs?.failed ?? 0} failed)`);
    return rollBack(record, 'failed-runs', at, states(marks(failed, 'failed'), record.state), {
      message: `${named(counts)}: more than ${maxFailedRuns} failed run(s) on v${candidate}: rolling back`,
    });
  }
  if (pastDeadline && unacknowledged.length > 0) {
    const instances = states(marks(unacknowledged, 'timed_out'), record.state);
    const heardOf = step.instances.some((id) => (views.get(id)?.lastSeen ?? '') >= startedAt);
    if (!heardOf) {
      return moved(
        withEvent({ ...record, instances }, 'paused', 'ack-timeout', at, {
          trigger: 'ack-timeout',
          message:
            `no targeted instance reported anything within ${ackTimeoutSeconds} s of step ${record.step} ` +
            '(is the broker down, or are they all gone?): paused rather than rolled back; resume, promote or abort',
        }),
        { kind: 'none' },
      );
    }
    return rollBack(record, 'ack-timeout', at, instances, {
      message: `${named(unacknowledged)} did not apply v${candidate} within ${ackTimeoutSeconds} s (or went offline): rolling back`,
    });
  }
  if (record.state === 'deploying' && unacknowledged.length === 0) {
    const acked = {
      ...record,
      steps: record.steps.map((s) => (s.step === record.step ? { ...s, ackedAt: at } : s)),
    };
    if (!bake)
      return startStep(
        { ...acked, instances: states({}, 'baking') },
        record.step + 1,
        seen,
        'system',
      );
    return moved(
      withEvent({ ...acked, instances: states({}, 'baking') }, 'baking', 'system', at, {
        message: `every targeted instance applied v${candidate}; baking (${describeBake(bake)})`,
      }),
      { kind: 'none' },
    );
  }
  const instances = states({}, record.state);
  if (record.state === 'baking' && unacknowledged.length === 0) {
    const ackedAt = Date.parse(step.ackedAt ?? at);
    const secondsDone =
      bake?.seconds === undefined || seen.now.getTime() - ackedAt >= bake.seconds * 1000;
    if (secondsDone && step.instances.every(baked)) {
      return startStep({ ...record, instances }, record.step + 1, seen, 'system');
    }
  }
  const changed = JSON.stringify(instances) !== JSON.stringify(record.instances);
  return changed
    ? moved({ ...record, instances, updatedAt: at }, { kind: 'none' })
    : unchanged(record);
}

function rollBack(
  record: RolloutRecord,
  trigger: RolloutTrigger,
  at: string,
  instances: InstanceRecord[],
  change: { message: string },
): Move {
  return moved(
    withEvent({ ...record, instances }, 'rolling_back', trigger, at, {
      trigger,
      message: change.message,
    }),
    { kind: 'roll-back' },
  );
}

function marks(ids: string[], state: RolloutInstanceState): Record<string, RolloutInstanceState> {
  return Object.fromEntries(ids.map((id) => [id, state]));
}

function describeBake(bake: { runs?: number; seconds?: number }): string {
  return [
    bake.runs === undefined ? undefined : `${bake.runs} completed run(s) each`,
    bake.seconds === undefined ? undefined : `${bake.seconds} s`,
  ]
    .filter(Boolean)
    .join(' and ');
}

function named(ids: string[]): string {
  const shown = ids.slice(0, NAMED_IN_MESSAGE).join(', ');
  return ids.length > NAMED_IN_MESSAGE
    ? `${shown} and ${ids.length - NAMED_IN_MESSAGE} more`
    : shown;
}

function moved(record: RolloutRecord, effect: Effect): Move {
  return { record, changed: true, effect };
}

function unchanged(record: RolloutRecord): Move {
  return { record, changed: false, effect: { kind: 'none' } };
}

function notApplicable(record: RolloutRecord, action: string): DomainError {
  const message = `rollout ${record.id} is ${record.state}: it cannot be ${action}`;
  return new DomainError(ErrorCode.RolloutStateConflict, message, [{ path: 'rollout', message }]);
}
