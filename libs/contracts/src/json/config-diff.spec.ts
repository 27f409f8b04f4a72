import { diffConfigs } from '@app/contracts';

describe(diffConfigs.name, () => {
  const sut = diffConfigs;

  it('lists changed leaves sorted by path', () => {
    const from = { thresholds: { high: 0.75, low: 0.35 }, scoring: { date: 0.3, geo: 0.25 } };
    const to = { thresholds: { high: 0.8, low: 0.35 }, scoring: { date: 0.35, geo: 0.25 } };

    expect(sut(from, to)).toEqual([
      { path: 'scoring.date', from: 0.3, to: 0.35 },
      { path: 'thresholds.high', from: 0.75, to: 0.8 },
    ]);
  });

  it('reports added and removed leaves with null on the missing side', () => {
    const from = { overrides: { music: { date: 0.4 } } };
    const to = { overrides: { art: { date: 0.2 } } };

    expect(sut(from, to)).toEqual([
      { path: 'overrides.art.date', from: null, to: 0.2 },
      { path: 'overrides.music.date', from: 0.4, to: null },
    ]);
  });

  it('compares arrays and null by value', () => {
    expect(sut({ priority: ['a'], cross: null }, { priority: ['a'], cross: null })).toEqual([]);
    expect(
      sut({ priority: ['a'], cross: null }, { priority: ['a', 'b'], cross: { w: 1 } }),
    ).toEqual([
      { path: 'cross', from: null, to: null },
      { path: 'cross.w', from: null, to: 1 },
      { path: 'priority', from: ['a'], to: ['a', 'b'] },
    ]);
  });

  it('is empty for equal documents whatever their key order', () => {
    expect(sut({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 })).toEqual([]);
  });
});
