import { weighEvidence } from './version-evidence';

describe(weighEvidence.name, () => {
  const claims = (entries: Array<[string, number]>) => new Map(entries);

  it('takes the highest authentic version from the snapshot or the bus', () => {
    const sut = weighEvidence(3, { snapshot: 6, bus: 5, claims: claims([]) }, 10);
    expect(sut).toEqual({ authentic: 6, highest: 6, ignored: new Map() });
  });

  it('believes claims up to the gap above the authentic version, and names the others', () => {
    const sut = weighEvidence(
      3,
      {
        snapshot: 6,
        bus: 0,
        claims: claims([
          ['a', 16],
          ['b', 17],
          ['c', 4],
        ]),
      },
      10,
    );
    expect(sut.highest).toBe(16);
    expect(sut.ignored).toEqual(new Map([['b', 17]]));
  });

  it('measures the gap from the store when nothing authentic is above it', () => {
    const sut = weighEvidence(
      3,
      {
        snapshot: 0,
        bus: 0,
        claims: claims([
          ['a', 13],
          ['b', 14],
        ]),
      },
      10,
    );
    expect(sut).toEqual({ authentic: 0, highest: 13, ignored: new Map([['b', 14]]) });
  });
});
