import { FixedWindowThrottlerStorage } from './fixed-window-throttler.storage';

describe(FixedWindowThrottlerStorage.name, () => {
  let now = 1_000_000;

  beforeEach(() => {
    jest.spyOn(Date, 'now').mockImplementation(() => now);
  });

  afterEach(() => jest.restoreAllMocks());

  it('counts hits per client in a window, blocks past the limit, and opens again after the block', async () => {
    const sut = new FixedWindowThrottlerStorage();
    const hit = (key = '10.0.0.1') => sut.increment(key, 60_000, 2, 0, 'default');

    expect(await hit()).toMatchObject({ totalHits: 1, isBlocked: false, timeToExpire: 60 });
    expect(await hit()).toMatchObject({ totalHits: 2, isBlocked: false });
    expect(await hit()).toMatchObject({ isBlocked: true, timeToBlockExpire: 60 });
    expect(await hit('10.0.0.2')).toMatchObject({ totalHits: 1, isBlocked: false });

    now += 30_000;
    expect(await hit()).toMatchObject({ isBlocked: true, timeToBlockExpire: 30 });
    now += 30_001;
    expect(await hit()).toMatchObject({ totalHits: 1, isBlocked: false });
  });

  it('counts every hit of a busy window under a high limit without blocking', async () => {
    const sut = new FixedWindowThrottlerStorage();
    for (let i = 0; i < 50_000; i++) await sut.increment('busy', 60_000, 1_000_000, 0, 'default');
    expect(await sut.increment('busy', 60_000, 1_000_000, 0, 'default')).toMatchObject({
      totalHits: 50_001,
    });
  });
});
