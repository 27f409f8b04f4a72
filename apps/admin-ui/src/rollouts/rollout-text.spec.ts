import type { RolloutState } from '../api/types';
import {
  canAct,
  cohortReach,
  describeBake,
  describeCohort,
  describeTrigger,
  isActive,
  stateLabel,
} from './rollout-text';

const STATES: RolloutState[] = [
  'pending',
  'deploying',
  'baking',
  'paused',
  'complete',
  'rolling_back',
  'rolled_back',
  'aborted',
];

describe('rollout states', () => {
  it('knows which states are still moving', () => {
    expect(STATES.filter(isActive)).toEqual([
      'pending',
      'deploying',
      'baking',
      'paused',
      'rolling_back',
    ]);
  });

  it('offers each action only where the state machine allows it', () => {
    const where = (action: Parameters<typeof canAct>[0]) =>
      STATES.filter((state) => canAct(action, state));
    expect(where('pause')).toEqual(['pending', 'deploying', 'baking']);
    expect(where('resume')).toEqual(['paused']);
    expect(where('abort')).toEqual(['pending', 'deploying', 'baking', 'paused']);
    expect(where('promote')).toEqual(['pending', 'deploying', 'baking', 'paused']);
  });

  it('offers nothing once a rollout ended or while it rolls back', () => {
    for (const state of ['complete', 'rolled_back', 'aborted', 'rolling_back'] as const) {
      for (const action of ['pause', 'resume', 'abort', 'promote'] as const) {
        expect(canAct(action, state)).toBe(false);
      }
    }
  });

  it('names states and triggers in words', () => {
    expect(stateLabel('rolled_back')).toBe('rolled back');
    expect(describeTrigger('user:alice')).toBe('alice');
    expect(describeTrigger('ack-timeout')).toBe('ack timeout');
    expect(describeTrigger('system')).toBe('system');
  });
});

describe('describeCohort and describeBake', () => {
  it('describes every kind of cohort', () => {
    expect(describeCohort({ instances: 1 })).toBe('1 instance');
    expect(describeCohort({ instances: 3 })).toBe('3 instances');
    expect(describeCohort({ percent: 10 })).toBe('10 %');
    expect(describeCohort({ selector: { tier: 'canary', region: 'eu' } })).toBe(
      'tier=canary, region=eu',
    );
    expect(describeCohort({ all: true })).toBe('everyone');
  });

  it('describes a bake in runs and seconds', () => {
    expect(describeBake(undefined)).toBe('none');
    expect(describeBake({})).toBe('none');
    expect(describeBake({ runs: 1 })).toBe('1 run');
    expect(describeBake({ runs: 2, seconds: 30 })).toBe('2 runs and 30 s');
    expect(describeBake({ seconds: 0 })).toBe('0 s');
  });
});

describe('cohortReach', () => {
  const instance = (
    status: 'online' | 'degraded' | 'offline',
    labels: Record<string, string> = {},
  ) => ({
    status,
    labels,
  });
  const fleet = [
    instance('online', { tier: 'canary' }),
    instance('degraded', { tier: 'canary', region: 'eu' }),
    instance('online'),
    instance('online'),
    instance('offline', { tier: 'canary' }),
  ];

  it('counts only instances that are up', () => {
    expect(cohortReach({ all: true }, fleet)).toEqual({ count: 4, of: 4 });
    expect(cohortReach({ instances: 9 }, fleet)).toEqual({ count: 4, of: 4 });
    expect(cohortReach({ instances: 1 }, fleet)).toEqual({ count: 1, of: 4 });
  });

  it('rounds a percent up, to at least one instance', () => {
    expect(cohortReach({ percent: 10 }, fleet)).toEqual({ count: 1, of: 4 });
    expect(cohortReach({ percent: 50 }, fleet)).toEqual({ count: 2, of: 4 });
    expect(cohortReach({ percent: 51 }, fleet)).toEqual({ count: 3, of: 4 });
    expect(cohortReach({ percent: 100 }, fleet)).toEqual({ count: 4, of: 4 });
    expect(cohortReach({ percent: 10 }, [])).toEqual({ count: 0, of: 0 });
  });

  it('matches every label of a selector', () => {
    expect(cohortReach({ selector: { tier: 'canary' } }, fleet)).toEqual({ count: 2, of: 4 });
    expect(cohortReach({ selector: { tier: 'canary', region: 'eu' } }, fleet)).toEqual({
      count: 1,
      of: 4,
    });
    expect(cohortReach({ selector: { tier: 'gold' } }, fleet)).toEqual({ count: 0, of: 4 });
    expect(cohortReach({ selector: { constructor: 'x' } }, fleet)).toEqual({ count: 0, of: 4 });
  });
});
