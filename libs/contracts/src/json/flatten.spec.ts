import { flattenLeaves } from '@app/contracts';

describe(flattenLeaves.name, () => {
  const sut = flattenLeaves;

  it('lists leaves with dotted paths in document order', () => {
    expect(sut({ scoring: { date: 0.3, geo: 0.25 }, ai: { enabled: false } })).toEqual([
      { path: 'scoring.date', value: 0.3 },
      { path: 'scoring.geo', value: 0.25 },
      { path: 'ai.enabled', value: false },
    ]);
  });

  it('treats arrays, null and empty objects as leaves', () => {
    expect(sut({ priority: ['a', 'b'], cross: null, overrides: {}, deep: { inner: {} } })).toEqual([
      { path: 'priority', value: ['a', 'b'] },
      { path: 'cross', value: null },
      { path: 'overrides', value: {} },
      { path: 'deep.inner', value: {} },
    ]);
  });

  it('has no leaves for an empty document', () => {
    expect(sut({})).toEqual([]);
  });
});
