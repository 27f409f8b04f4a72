import type { InstanceView } from '@app/contracts';
import { inStickyOrder, selectCohort } from './cohorts';

function instanceFactory(instanceId: string, labels: Record<string, string> = {}): InstanceView {
  return {
    service: 'dedup-worker',
    instanceId,
    status: 'online',
    appliedVersion: 1,
    stagedVersion: 1,
    lastRunVersion: 1,
    schemaDrift: false,
    labels,
    runs: null,
    lastRun: null,
    lastRejection: null,
    lastSeen: '2026-11-21T20:00:00.000Z',
    offlineSince: null,
    stale: null,
    attestedAt: null,
  };
}

const fleet = Array.from({ length: 10 }, (_, i) =>
  instanceFactory(`w-${i}`, { tier: i < 3 ? 'canary' : 'main' }),
);

describe(selectCohort.name, () => {
  const sut = selectCohort;

  it('orders instances by rollout and instance (sticky), differently for another rollout', () => {
    const ids = fleet.map((f) => f.instanceId);
    expect(inStickyOrder('r-a', ids)).toEqual(inStickyOrder('r-a', [...ids].reverse()));
    expect(inStickyOrder('r-a', ids)).not.toEqual(inStickyOrder('r-b', ids));
  });

  it('takes the first n, and a cumulative prefix as n grows', () => {
    const one = sut('r-a', { instances: 1 }, fleet);
    const three = sut('r-a', { instances: 3 }, fleet);
    expect(one).toHaveLength(1);
    expect(three.slice(0, 1)).toEqual(one);
    expect(sut('r-a', { instances: 50 }, fleet)).toHaveLength(10);
  });

  it.each([
    [10, 1],
    [15, 2],
    [50, 5],
    [0.1, 1],
    [100, 10],
  ])('rounds %p %% of ten up to %p instance(s)', (percent, count) => {
    expect(sut('r-a', { percent }, fleet)).toHaveLength(count);
  });

  it('selects by every label of the selector', () => {
    expect(sut('r-a', { selector: { tier: 'canary' } }, fleet).sort()).toEqual([
      'w-0',
      'w-1',
      'w-2',
    ]);
    expect(sut('r-a', { selector: { tier: 'canary', region: 'eu' } }, fleet)).toEqual([]);
  });

  it('picks nobody from an empty fleet', () => {
    expect(sut('r-a', { percent: 50 }, [])).toEqual([]);
    expect(sut('r-a', { all: true }, [])).toEqual([]);
  });
});
