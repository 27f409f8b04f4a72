// One de-duplication run in its own process, so its peak memory is its own. Started by the dedup bench.
import { performance } from 'node:perf_hooks';
import { defaultConfig, findServiceDefinition, type MatchingConfig } from '@app/contracts';
import { deduplicate } from '../../apps/dedup-worker/src/matching/deduplicate';
import { syntheticEvents } from '../../apps/dedup-worker/src/matching/testing/matching.factories';

async function main(): Promise<void> {
  const count = Number(process.env.DEDUP_EVENTS);
  const definition = findServiceDefinition('dedup-worker');
  if (!definition) throw new Error('dedup-worker is not registered');
  const config = defaultConfig(definition) as unknown as MatchingConfig;
  // Constant density (~330 listings a day, a large metro area): more events span more days.
  const { events, duplicateGroups: planted } = syntheticEvents({
    count,
    duplicateShare: 0.3,
    days: Math.max(3, Math.ceil(count / 330)),
    seed: 11,
  });
  const rssBefore = process.memoryUsage().rss;
  const started = performance.now();
  const result = await deduplicate(events, config);
  const ms = performance.now() - started;

  const clusterOf = new Map<string, string>();
  for (const c of result.clusters) for (const m of c.members) clusterOf.set(m, c.id);
  const recovered = planted.filter((g) =>
    g.every((k) => clusterOf.get(k) === clusterOf.get(g[0])),
  ).length;
  process.send?.({
    count,
    ms,
    pairs: result.stats.pairsCompared,
    clusters: result.clusters.length,
    recall: planted.length ? recovered / planted.length : 1,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    rssBeforeMb: rssBefore / 2 ** 20,
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
