import { configStoreBench } from './suites/config-store.bench';
import { pushBench } from './suites/push.bench';
import { fanoutBench } from './suites/fanout.bench';
import { dedupBench } from './suites/dedup.bench';
import { searchBench } from './suites/search.bench';
import { servicesBench } from './suites/services.bench';
import { rolloutBench } from './suites/rollout.bench';
import { peersBench } from './suites/peers.bench';
import { workerBench } from './suites/worker.bench';
import { startBench } from './suites/start.bench';
import { loadavg } from 'node:os';
import { SuiteResult, writeReport } from './lib/report';

/** Every benchmark suite, by name (run a subset with `npm run bench -- <name>…`). */
const SUITES: Record<string, () => Promise<SuiteResult>> = {
  store: configStoreBench,
  push: pushBench,
  fanout: fanoutBench,
  dedup: dedupBench,
  search: searchBench,
  services: servicesBench,
  rollout: rolloutBench,
  peers: peersBench,
  worker: workerBench,
  start: startBench,
};

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const names = wanted.length > 0 ? wanted : Object.keys(SUITES);
  const unknown = names.filter((n) => !SUITES[n]);
  if (unknown.length > 0) {
    throw new Error(
      `unknown suite(s) ${unknown.join(', ')}; known: ${Object.keys(SUITES).join(', ')}`,
    );
  }
  const loadBefore = loadavg();
  const results: SuiteResult[] = [];
  for (const name of names) {
    console.error(`running ${name}…`);
    results.push(await SUITES[name]());
  }
  writeReport(results, loadBefore);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
