import {
  type InstanceStatus,
  MAX_HEALTH_BYTES,
  MAX_LABELS,
  readInstanceStatus,
  REJECTION_REASONS,
} from '@app/contracts';

const bytes = (value: unknown) => Buffer.from(JSON.stringify(value));

function statusFactory(overrides: Partial<InstanceStatus> = {}): InstanceStatus {
  return {
    service: 'dedup-worker',
    instanceId: 'w-1',
    status: 'online',
    appliedVersion: 12,
    stagedVersion: 12,
    lastRunVersion: 11,
    lastRejection: { version: 13, reason: 'schema', at: '2026-11-21T20:00:00.000Z' },
    schemaDrift: false,
    source: 'broker',
    rejections: Object.fromEntries(
      REJECTION_REASONS.map((r) => [r, 0]),
    ) as InstanceStatus['rejections'],
    at: '2026-11-21T20:00:00.100Z',
    ...overrides,
  };
}

describe(readInstanceStatus.name, () => {
  const sut = readInstanceStatus;

  it('reads what a worker publishes', () => {
    expect(sut(bytes(statusFactory()))).toEqual({
      service: 'dedup-worker',
      instanceId: 'w-1',
      status: 'online',
      appliedVersion: 12,
      stagedVersion: 12,
      lastRunVersion: 11,
      schemaDrift: false,
      lastRejection: { version: 13, reason: 'schema', at: '2026-11-21T20:00:00.000Z' },
      labels: {},
      runs: null,
      lastRun: null,
      stale: null,
      attestedAt: null,
      at: '2026-11-21T20:00:00.100Z',
    });
  });

  it('reads stale and attestedAt; a non-boolean stale or a non-string attestedAt is null', () => {
    expect(
      sut(bytes(statusFactory({ stale: true, attestedAt: '2026-11-21T19:59:00.000Z' }))),
    ).toMatchObject({ stale: true, attestedAt: '2026-11-21T19:59:00.000Z' });
    expect(sut(bytes({ ...statusFactory(), stale: 'yes', attestedAt: 7 }))).toMatchObject({
      stale: null,
      attestedAt: null,
    });
  });

  it('reads labels, run counts and the last run', () => {
    const read = sut(
      bytes(
        statusFactory({
          labels: { tier: 'canary', region: 'eu-west.1' },
          runs: { version: 12, completed: 3, failed: 1 },
          lastRun: { version: 12, ok: false, at: '2026-11-21T20:00:00.050Z' },
        }),
      ),
    );
    expect(read).toMatchObject({
      labels: { tier: 'canary', region: 'eu-west.1' },
      runs: { version: 12, completed: 3, failed: 1 },
      lastRun: { version: 12, ok: false, at: '2026-11-21T20:00:00.050Z' },
    });
  });

  it('drops labels that break the contract patterns, keeps at most MAX_LABELS, and still takes the report', () => {
    const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, `v${i}`]));
    const read = sut(
      bytes({
        ...statusFactory(),
        labels: {
          Tier: 'upper-case key',
          tier: 'canary',
          region: 'has spaces',
          zone: 7,
          ['x'.repeat(64)]: 'key too long',
          empty: '',
          ...many,
        },
      }),
    );
    expect(read?.status).toBe('online');
    expect(Object.keys(read?.labels ?? {})).toHaveLength(MAX_LABELS);
    expect(read?.labels).toMatchObject({ tier: 'canary', empty: '', k0: 'v0' });
    expect(read?.labels).not.toHaveProperty('Tier');
    expect(read?.labels).not.toHaveProperty('region');
    expect(read?.labels).not.toHaveProperty('zone');
  });

  it.each([
    ['not an object', 'three'],
    ['a negative count', { version: 12, completed: -1, failed: 0 }],
    ['a fractional count', { version: 12, completed: 1.5, failed: 0 }],
    ['a missing count', { version: 12, completed: 1 }],
  ])('reads run counts that are %s as null', (_, runs) => {
    const read = sut(bytes({ ...statusFactory(), runs }));
    expect(read?.runs).toBeNull();
    expect(read?.status).toBe('online');
  });

  it('reads a last run without a boolean ok or a time as null', () => {
    expect(
      sut(bytes({ ...statusFactory(), lastRun: { version: 1, ok: 'yes', at: 'x' } }))?.lastRun,
    ).toBeNull();
    expect(
      sut(bytes({ ...statusFactory(), lastRun: { version: 1, ok: true } }))?.lastRun,
    ).toBeNull();
  });

  it('takes a minimal report from a worker that tracks less: missing versions are null', () => {
    expect(sut(bytes({ service: 's-1', instanceId: 'i', status: 'offline' }))).toEqual({
      service: 's-1',
      instanceId: 'i',
      status: 'offline',
      appliedVersion: null,
      stagedVersion: null,
      lastRunVersion: null,
      schemaDrift: false,
      lastRejection: null,
      labels: {},
      runs: null,
      lastRun: null,
      stale: null,
      attestedAt: null,
    });
  });

  it('keeps an unknown rejection reason as bounded text, and drops a version that is not one', () => {
    const read = sut(
      bytes(
        statusFactory({
          appliedVersion: -1,
          lastRejection: { reason: 'x'.repeat(500) as 'schema', at: 'now', version: 1.5 },
        }),
      ),
    );
    expect(read?.appliedVersion).toBeNull();
    expect(read?.lastRejection).toEqual({ reason: 'x'.repeat(64), at: 'now' });
  });

  it.each([
    ['empty', Buffer.alloc(0)],
    ['not JSON', Buffer.from('{"status":')],
    ['an array', bytes([statusFactory()])],
    ['an unknown status', bytes(statusFactory({ status: 'sleepy' as 'online' }))],
    ['no service', bytes({ instanceId: 'w-1', status: 'online' })],
    ['no instance id', bytes({ service: 'dedup-worker', status: 'online' })],
    ['too large', Buffer.alloc(MAX_HEALTH_BYTES + 1, 0x20)],
  ])('refuses a payload that is %s', (_, payload) => {
    expect(sut(payload)).toBeUndefined();
  });
});
