import type { InstanceView } from '@app/contracts';
import { DomainError } from '../common/domain-error';
import { advance, pause, promote, resume } from './rollout-machine';
import type { RolloutRecord, Strategy } from './rollout-record';

const T0 = Date.parse('2026-11-21T20:00:00.000Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000);

function instanceFactory(instanceId: string, overrides: Partial<InstanceView> = {}): InstanceView {
  return {
    service: 'dedup-worker',
    instanceId,
    status: 'online',
    appliedVersion: 1,
    stagedVersion: 1,
    lastRunVersion: 1,
    schemaDrift: false,
    labels: { tier: 'canary' },
    runs: null,
    lastRun: null,
    lastRejection: null,
    lastSeen: at(-10).toISOString(),
    offlineSince: null,
    stale: null,
    attestedAt: null,
    ...overrides,
  };
}

function recordFactory(strategy: Partial<Strategy> = {}): RolloutRecord {
  const steps = strategy.steps ?? [
    { cohort: { selector: { tier: 'canary' } }, bake: { runs: 1, seconds: 5 } },
    { cohort: { all: true } },
  ];
  return {
    id: 'r-test-00000000',
    service: 'dedup-worker',
    version: 2,
    stableVersion: 1,
    strategy: { ackTimeoutSeconds: 30, maxFailedRuns: 0, ...strategy, steps },
    state: 'pending',
    step: 0,
    steps: steps.map((s, i) => ({
      step: i + 1,
      cohort: s.cohort,
      instances: [],
      startedAt: null,
      ackedAt: null,
    })),
    instances: [],
    timeline: [],
    rollbackVersion: null,
    trigger: null,
    createdAt: at(0).toISOString(),
    createdBy: 'alice',
    updatedAt: at(0).toISOString(),
    revision: 1,
  };
}

describe(advance.name, () => {
  const sut = advance;
  const fleet = [instanceFactory('w-1'), instanceFactory('w-2', { labels: { tier: 'main' } })];

  it('starts step 1 with the selector cohort and asks for the candidate to be published', () => {
    const move = sut(recordFactory(), { fleet, now: at(0) });
    expect(move.effect).toEqual({ kind: 'publish' });
    expect(move.record).toMatchObject({ state: 'deploying', step: 1 });
    expect(move.record.steps[0].instances).toEqual(['w-1']);
  });

  it('pauses a step whose cohort matches nobody that is up', () => {
    const offline = [instanceFactory('w-1', { status: 'offline' })];
    const move = sut(recordFactory(), { fleet: offline, now: at(0) });
    expect(move.record).toMatchObject({ state: 'paused', trigger: 'empty-cohort' });
    expect(move.effect).toEqual({ kind: 'none' });
  });

  it('bakes for both runs and seconds, then completes on the last step', () => {
    const deploying = sut(recordFactory(), { fleet, now: at(0) }).record;
    const applied = [instanceFactory('w-1', { appliedVersion: 2, lastSeen: at(1).toISOString() })];
    const baking = sut(deploying, { fleet: applied, now: at(1) }).record;
    expect(baking.state).toBe('baking');
    const ran = [
      instanceFactory('w-1', {
        appliedVersion: 2,
        runs: { version: 2, completed: 1, failed: 0 },
        lastSeen: at(2).toISOString(),
      }),
    ];
    expect(sut(baking, { fleet: ran, now: at(3) }).record.state).toBe('baking');
    expect(sut(baking, { fleet: ran, now: at(6) }).effect).toEqual({
      kind: 'complete',
      by: 'system',
    });
  });

  it('pauses at the ack timeout when no targeted instance said anything since the step started', () => {
    const deploying = sut(recordFactory(), { fleet, now: at(0) }).record;
    const move = sut(deploying, { fleet, now: at(31) });
    expect(move.record).toMatchObject({ state: 'paused', trigger: 'ack-timeout' });
  });

  it('rolls back at the ack timeout when a targeted instance reported but did not apply', () => {
    const deploying = sut(recordFactory(), { fleet, now: at(0) }).record;
    const heard = [instanceFactory('w-1', { lastSeen: at(2).toISOString() })];
    expect(sut(deploying, { fleet: heard, now: at(29) }).record.state).toBe('deploying');
    const move = sut(deploying, { fleet: heard, now: at(31) });
    expect(move.record).toMatchObject({ state: 'rolling_back', trigger: 'ack-timeout' });
    expect(move.effect).toEqual({ kind: 'roll-back' });
  });

  it('ignores rejections from before the step and of other versions', () => {
    const deploying = sut(recordFactory(), { fleet, now: at(0) }).record;
    const old = [
      instanceFactory('w-1', {
        lastRejection: { version: 2, reason: 'schema', at: at(-1).toISOString() },
      }),
    ];
    expect(sut(deploying, { fleet: old, now: at(1) }).record.state).toBe('deploying');
    const other = [
      instanceFactory('w-1', {
        lastRejection: { version: 7, reason: 'stale', at: at(1).toISOString() },
      }),
    ];
    expect(sut(deploying, { fleet: other, now: at(2) }).record.state).toBe('deploying');
    const unverified = [
      instanceFactory('w-1', { lastRejection: { reason: 'signature', at: at(1).toISOString() } }),
    ];
    expect(sut(deploying, { fleet: unverified, now: at(2) }).record.trigger).toBe('rejection');
  });
});

describe('user actions', () => {
  it('pause, resume and promote apply only to active rollouts', () => {
    const record = recordFactory();
    const paused = pause(record, 'user:alice', at(0)).record;
    expect(paused).toMatchObject({ state: 'paused', trigger: 'user:alice' });
    expect(pause(paused, 'user:alice', at(1)).changed).toBe(false);
    const resumed = resume(paused, 'user:bob', { fleet: [instanceFactory('w-1')], now: at(2) });
    expect(resumed.record).toMatchObject({ state: 'deploying', step: 1 });
    expect(promote(resumed.record, 'user:bob').effect).toEqual({
      kind: 'complete',
      by: 'user:bob',
    });
    const done = { ...record, state: 'complete' as const };
    expect(() => pause(done, 'user:alice', at(3))).toThrow(DomainError);
    expect(() => resume(done, 'user:alice', { fleet: [], now: at(3) })).toThrow(DomainError);
  });
});
