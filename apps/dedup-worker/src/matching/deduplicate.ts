import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { MatchingConfig } from '@app/contracts';
import { emptyFailureCounts, type AiFailureKind } from '../ai/ai.error';
import { isAiUsable, type AiDecisionReport, type AiMatcher } from '../ai/ai-matcher';
import { blockCandidatePairs, compareStrings } from './blocking';
import { buildCanonical, type CanonicalEvent, type CanonicalMember } from './canonical';
import { clusterEvents, type ClusterLink } from './clustering';
import type { SourceEvent } from './event';
import { eventFeatures, PairScorer } from './scoring';

/** One real-world event: the listings that describe it and the merged result. */
export interface DedupCluster {
  /** Derived from the member keys: the same members always give the same id. */
  id: string;
  /** Keys of the member events, in key order. */
  members: string[];
  canonical: CanonicalEvent;
  /** Average pair score inside the cluster (never-compared pairs count as 0); 1 for a singleton. */
  internalSimilarity: number;
}

/** Counts describing a run. */
export interface DedupStats {
  events: number;
  pairsCompared: number;
  matches: number;
  ambiguous: number;
  aiCalls: number;
  aiCacheHits: number;
  aiFailures: Record<AiFailureKind, number>;
  aiLowConfidence: number;
  /** Ambiguous pairs not sent to the AI because the run's budget (aiMaxPairs) was spent. */
  aiOverBudget: number;
  aiCostUsd: number;
  inputTokens: number;
  outputTokens: number;
}

/** Wall-clock milliseconds spent in each stage. */
export interface DedupTimings {
  blockingMs: number;
  scoringMs: number;
  aiMs: number;
  clusteringMs: number;
  totalMs: number;
}

/** Clusters covering every input event exactly once (singletons included), ordered by first member key. */
export interface DedupResult {
  clusters: DedupCluster[];
  stats: DedupStats;
  timings: DedupTimings;
}

/** Collaborators of a run; without `ai`, ambiguous pairs take the score-based fallback. */
export interface DedupDeps {
  ai?: AiMatcher;
  /**
   * Most ambiguous pairs sent to the AI in one run (the highest-scoring first); the rest take
   * the score-based fallback. Bounds the cost of a run whose scores leave many pairs ambiguous.
   */
  aiMaxPairs?: number;
}

/**
 * De-duplicates events: blocks by start time, scores candidate pairs, asks the AI about ambiguous
 * ones (when enabled with a key), clusters and merges each cluster into a canonical event.
 */
export async function deduplicate(
  events: readonly SourceEvent[],
  config: MatchingConfig,
  deps: DedupDeps = {},
): Promise<DedupResult> {
  const started = performance.now();
  // Working in key order makes every later tie-break, and so the output, independent of input order.
  const members: CanonicalMember[] = events
    .map((event, inputIndex) => ({ event, inputIndex }))
    .sort((a, b) => compareStrings(a.event.key, b.event.key) || a.inputIndex - b.inputIndex);
  const features = eventFeatures(members.map((member) => member.event));
  const keys = features.map((feature) => feature.key);

  const { pairs, pairsCompared } = blockCandidatePairs(features, config.date);
  const blocked = performance.now();

  const scorer = new PairScorer(config);
  const scores = new Float64Array(pairsCompared);
  const links: ClusterLink[] = [];
  // Indices (into the pair list) of the ambiguous pairs.
  const ambiguous: number[] = [];
  let matches = 0;
  for (let i = 0; i < pairsCompared; i += 1) {
    const left = pairs[2 * i];
    const right = pairs[2 * i + 1];
    const score = scorer.score(features[left], features[right]);
    scores[i] = score.total;
    if (score.classification === 'match') {
      matches += 1;
      links.push({ left, right, weight: score.total });
    } else if (score.classification === 'ambiguous') {
      ambiguous.push(i);
    }
  }
  const scored = performance.now();

  const ai = deps.ai !== undefined && isAiUsable(config.ai) ? deps.ai : undefined;
  let report: AiDecisionReport | undefined;
  let aiOverBudget = 0;
  if (ai !== undefined && ambiguous.length > 0) {
    // Within budget, the pairs closest to a match first (ties by pair order: deterministic).
    const asked = [...ambiguous]
      .sort((x, y) => scores[y] - scores[x] || x - y)
      .slice(0, deps.aiMaxPairs ?? ambiguous.length);
    aiOverBudget = ambiguous.length - asked.length;
    report = await ai.decide(
      asked.map((i) => ({
        left: features[pairs[2 * i]].event,
        right: features[pairs[2 * i + 1]].event,
        score: scores[i],
      })),
    );
    report.decisions.forEach((decision, index) => {
      if (decision.sameEvent) {
        const i = asked[index];
        // The model's yes promotes the pair to a match, so it weighs at least what a match needs.
        scores[i] = Math.max(scores[i], config.thresholds.high);
        links.push({ left: pairs[2 * i], right: pairs[2 * i + 1], weight: scores[i] });
      }
    });
  }
  const decided = performance.now();

  const clusters = clusterEvents(keys, links, { pairs, scores }, config.cluster).map(
    (cluster): DedupCluster => {
      const memberKeys = cluster.members.map((index) => keys[index]);
      return {
        id: clusterId(memberKeys),
        members: memberKeys,
        canonical: buildCanonical(
          cluster.members.map((index) => members[index]),
          config.canonical.field_strategies,
        ),
        internalSimilarity: cluster.internalSimilarity,
      };
    },
  );
  const finished = performance.now();

  return {
    clusters,
    stats: {
      events: events.length,
      pairsCompared,
      matches,
      ambiguous: ambiguous.length,
      aiCalls: report?.calls ?? 0,
      aiCacheHits: report?.cacheHits ?? 0,
      aiFailures: report?.failures ?? emptyFailureCounts(),
      aiLowConfidence: report?.lowConfidence ?? 0,
      aiOverBudget,
      aiCostUsd: report?.costUsd ?? 0,
      inputTokens: report?.inputTokens ?? 0,
      outputTokens: report?.outputTokens ?? 0,
    },
    timings: {
      blockingMs: blocked - started,
      scoringMs: scored - blocked,
      aiMs: decided - scored,
      clusteringMs: finished - decided,
      totalMs: finished - started,
    },
  };
}

function clusterId(memberKeys: readonly string[]): string {
  return `cl_${createHash('sha256').update(memberKeys.join('\n')).digest('hex').slice(0, 16)}`;
}
