import { clusterEvents, internalSimilarity, PairScoreTable, type ClusterLink } from './clustering';
import { matchingConfig } from './testing/matching.factories';

interface Scored {
  left: number;
  right: number;
  score: number;
}

function compared(scored: readonly Scored[]): { pairs: number[]; scores: number[] } {
  return { pairs: scored.flatMap((s) => [s.left, s.right]), scores: scored.map((s) => s.score) };
}

function links(scored: readonly Scored[], high = 0.75): ClusterLink[] {
  return scored
    .filter((s) => s.score >= high)
    .map((s) => ({ left: s.left, right: s.right, weight: s.score }));
}

function memberKeys(keys: readonly string[], clusters: { members: number[] }[]): string[][] {
  return clusters.map((cluster) => cluster.members.map((index) => keys[index]));
}

const clusterConfig = (
  adjust: Partial<{ max_cluster_size: number; min_internal_similarity: number }> = {},
) => ({
  ...matchingConfig().cluster,
  ...adjust,
});

describe(clusterEvents.name, () => {
  it('joins linked events transitively and keeps the rest as singletons', () => {
    const keys = ['a', 'b', 'c', 'd'];
    const scored = [
      { left: 0, right: 1, score: 0.9 },
      { left: 1, right: 2, score: 0.8 },
      { left: 0, right: 2, score: 0.7 },
    ];

    const clusters = clusterEvents(keys, links(scored), compared(scored), clusterConfig());

    expect(memberKeys(keys, clusters)).toEqual([['a', 'b', 'c'], ['d']]);
    expect(clusters[0].internalSimilarity).toBeCloseTo((0.9 + 0.8 + 0.7) / 3);
    expect(clusters[1].internalSimilarity).toBe(1);
  });

  it('counts pairs never compared as 0, so a chain drifting apart is split at its weakest link', () => {
    // a–b–c–d linked in a chain; a, b and c, d were never compared with each other.
    const keys = ['a', 'b', 'c', 'd'];
    const scored = [
      { left: 0, right: 1, score: 0.95 },
      { left: 1, right: 2, score: 0.76 },
      { left: 2, right: 3, score: 0.9 },
    ];
    // Average over 6 pairs: (0.95 + 0.76 + 0.9) / 6 = 0.435; each half alone is far above 0.5.
    const config = clusterConfig({ min_internal_similarity: 0.5 });

    const clusters = clusterEvents(keys, links(scored), compared(scored), config);

    expect(memberKeys(keys, clusters)).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
  });

  it('splits a cluster larger than max_cluster_size at its weakest links', () => {
    const keys = ['a', 'b', 'c', 'd', 'e'];
    const scored = [
      { left: 0, right: 1, score: 0.95 },
      { left: 0, right: 2, score: 0.94 },
      { left: 1, right: 2, score: 0.93 },
      { left: 2, right: 3, score: 0.8 },
      { left: 3, right: 4, score: 0.92 },
      { left: 2, right: 4, score: 0.6 },
    ];

    const clusters = clusterEvents(
      keys,
      links(scored),
      compared(scored),
      clusterConfig({ max_cluster_size: 3 }),
    );

    expect(memberKeys(keys, clusters)).toEqual([
      ['a', 'b', 'c'],
      ['d', 'e'],
    ]);
  });

  it('falls back to singletons when no part can satisfy the rules', () => {
    const keys = ['a', 'b'];
    const scored = [{ left: 0, right: 1, score: 0.8 }];

    const clusters = clusterEvents(
      keys,
      links(scored),
      compared(scored),
      clusterConfig({ min_internal_similarity: 0.9 }),
    );

    expect(memberKeys(keys, clusters)).toEqual([['a'], ['b']]);
  });

  it('gives the same clusters whatever the input order, even with tied link weights', () => {
    const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
    const scored = [
      { left: 0, right: 1, score: 0.8 },
      { left: 1, right: 2, score: 0.8 },
      { left: 2, right: 3, score: 0.8 },
      { left: 3, right: 4, score: 0.8 },
      { left: 4, right: 5, score: 0.8 },
    ];
    const config = clusterConfig({ max_cluster_size: 2 });
    const expected = memberKeys(keys, clusterEvents(keys, links(scored), compared(scored), config));

    // The same events and pairs, indexed in a shuffled order.
    const permutation = [3, 5, 0, 2, 4, 1];
    const shuffledKeys = permutation.map((index) => keys[index]);
    const position = (original: number): number => permutation.indexOf(original);
    const shuffledScored = [...scored]
      .reverse()
      .map((s) => ({ left: position(s.right), right: position(s.left), score: s.score }));
    const actual = clusterEvents(
      shuffledKeys,
      links(shuffledScored),
      compared(shuffledScored),
      config,
    );

    expect(memberKeys(shuffledKeys, actual)).toEqual(expected);
    expect(expected.every((members) => members.length <= 2)).toBe(true);
  });
});

describe(internalSimilarity.name, () => {
  it('averages over every pair of members, counting uncompared pairs as 0', () => {
    const table = new PairScoreTable(3);
    table.set(0, 1, 0.9);
    table.set(2, 1, 0.6);

    expect(internalSimilarity([0, 1, 2], table)).toBeCloseTo((0.9 + 0.6 + 0) / 3);
    expect(internalSimilarity([2], table)).toBe(1);
  });
});
