import type { ClusterConfig } from '@app/contracts';
import { compareStrings } from './blocking';

/** A link between two events that says they are the same event, with the strength of that link. */
export interface ClusterLink {
  left: number;
  right: number;
  /** The pair's score; an AI-confirmed pair counts as at least thresholds.high. */
  weight: number;
}

/** A group of events judged to be one event: indices ordered by key. */
export interface IndexCluster {
  members: number[];
  /** Average score over every pair of members (pairs never compared count as 0); 1 for a singleton. */
  internalSimilarity: number;
}

/** Every pair that was scored: pair i is (pairs[2i], pairs[2i + 1]) and scored scores[i]. */
export interface ComparedPairs {
  pairs: ArrayLike<number>;
  scores: ArrayLike<number>;
}

/** Scores of compared pairs, looked up in either order. */
export class PairScoreTable {
  private readonly scores = new Map<number, number>();

  constructor(private readonly size: number) {}

  /** Records the score of a compared pair. */
  set(a: number, b: number, score: number): void {
    this.scores.set(this.slot(a, b), score);
  }

  /** The score of a compared pair, or undefined when the pair was never compared. */
  get(a: number, b: number): number | undefined {
    return this.scores.get(this.slot(a, b));
  }

  private slot(a: number, b: number): number {
    return a < b ? a * this.size + b : b * this.size + a;
  }
}

/** Average score over all pairs of the members; pairs never compared count as 0. */
export function internalSimilarity(members: readonly number[], scores: PairScoreTable): number {
  if (members.length < 2) {
    return 1;
  }
  let sum = 0;
  for (let i = 0; i < members.length; i += 1) {
    for (let j = i + 1; j < members.length; j += 1) {
      sum += scores.get(members[i], members[j]) ?? 0;
    }
  }
  return sum / ((members.length * (members.length - 1)) / 2);
}

interface DendrogramNode {
  size: number;
  // Leaves have no children; an inner node joins exactly two subtrees.
  children: readonly [number, number] | null;
}

/**
 * Groups events connected by links (union-find), then splits every group that is larger than
 * max_cluster_size or whose internal similarity is below min_internal_similarity by removing its
 * weakest links until each part satisfies both rules (parts may be singletons). Removing links
 * weakest first splits a group exactly where its maximum spanning tree is weakest, so this walks
 * the single-linkage dendrogram top-down instead of re-running union-find after every removal.
 * Ties between equal weights are broken by the events' keys, so the result never depends on input order.
 */
export function clusterEvents(
  keys: readonly string[],
  links: readonly ClusterLink[],
  compared: ComparedPairs,
  config: ClusterConfig,
): IndexCluster[] {
  const nodes: DendrogramNode[] = keys.map(() => ({ size: 1, children: null }));
  const parent = keys.map((_, index) => index);
  const nodeOfRoot = keys.map((_, index) => index);
  const find = (index: number): number => {
    let root = index;
    while (parent[root] !== root) {
      root = parent[root];
    }
    while (parent[index] !== root) {
      const next = parent[index];
      parent[index] = root;
      index = next;
    }
    return root;
  };

  // Strongest first: a link that closes a cycle is weaker than the path it duplicates, so it never splits anything.
  for (const link of [...links].sort((a, b) => compareLinks(a, b, keys))) {
    const rootA = find(link.left);
    const rootB = find(link.right);
    if (rootA === rootB) {
      continue;
    }
    const nodeA = nodeOfRoot[rootA];
    const nodeB = nodeOfRoot[rootB];
    nodes.push({ size: nodes[nodeA].size + nodes[nodeB].size, children: [nodeA, nodeB] });
    const [big, small] = nodes[nodeA].size >= nodes[nodeB].size ? [rootA, rootB] : [rootB, rootA];
    parent[small] = big;
    nodeOfRoot[big] = nodes.length - 1;
  }

  // Only pairs inside one group can count towards an internal similarity; most pairs are not.
  const scores = new PairScoreTable(keys.length);
  for (let i = 0; i < compared.scores.length; i += 1) {
    const left = compared.pairs[2 * i];
    const right = compared.pairs[2 * i + 1];
    if (find(left) === find(right)) {
      scores.set(left, right, compared.scores[i]);
    }
  }

  const clusters: IndexCluster[] = [];
  const pendingNodes = keys
    .map((_, index) => index)
    .filter((index) => find(index) === index)
    .map((root) => nodeOfRoot[root]);
  while (pendingNodes.length > 0) {
    const nodeId = pendingNodes.pop() as number;
    const node = nodes[nodeId];
    if (node.children === null) {
      clusters.push({ members: [nodeId], internalSimilarity: 1 });
      continue;
    }
    if (node.size <= config.max_cluster_size) {
      const members = leavesOf(nodeId, nodes);
      const similarity = internalSimilarity(members, scores);
      if (similarity >= config.min_internal_similarity) {
        clusters.push({ members, internalSimilarity: similarity });
        continue;
      }
    }
    // Undoing the last (weakest) union removes the weakest link of this group's spanning tree.
    pendingNodes.push(node.children[0], node.children[1]);
  }

  for (const cluster of clusters) {
    cluster.members.sort((a, b) => compareStrings(keys[a], keys[b]) || a - b);
  }
  return clusters.sort(
    (a, b) => compareStrings(keys[a.members[0]], keys[b.members[0]]) || a.members[0] - b.members[0],
  );
}

function leavesOf(nodeId: number, nodes: readonly DendrogramNode[]): number[] {
  const leaves: number[] = [];
  const stack = [nodeId];
  while (stack.length > 0) {
    const current = stack.pop() as number;
    const children = nodes[current].children;
    if (children === null) {
      leaves.push(current);
    } else {
      stack.push(children[0], children[1]);
    }
  }
  return leaves;
}

function compareLinks(a: ClusterLink, b: ClusterLink, keys: readonly string[]): number {
  if (a.weight !== b.weight) {
    return b.weight - a.weight;
  }
  const [a1, a2] = orderedKeys(a, keys);
  const [b1, b2] = orderedKeys(b, keys);
  return compareStrings(a1, b1) || compareStrings(a2, b2);
}

function orderedKeys(link: ClusterLink, keys: readonly string[]): [string, string] {
  const left = keys[link.left];
  const right = keys[link.right];
  return compareStrings(left, right) <= 0 ? [left, right] : [right, left];
}
