import {
  type InstanceStatus,
  MAX_HEALTH_BYTES,
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
      at: '2026-11-21T20:00:00.100Z',
    });
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
