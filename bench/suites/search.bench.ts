import { searchConfigs } from '../../apps/config-manager/src/search/search-configs';
import { syntheticServices } from '../../apps/config-manager/src/search/testing/synthetic-services';
import type { SuiteResult } from '../lib/report';
import { summarize, timeEach } from '../lib/stats';
import { BENCH_TOKEN, startManagerProcess } from '../lib/manager-process';

const ROUNDS = Number(process.env.BENCH_SEARCH_ROUNDS ?? 1000);
const REQUESTS = Number(process.env.BENCH_SEARCH_REQUESTS ?? 500);

/**
 * Issue 7: the admin page's search. The search itself over 10 services of 200 keys (in process,
 * the worst case being a query that matches nothing and so reads every leaf), and GET
 * /api/search over HTTP against a running manager.
 */
export async function searchBench(): Promise<SuiteResult> {
  const sources = syntheticServices(10, 200);
  const noMatch = summarize(
    timeEach(ROUNDS, () => searchConfigs(sources, 'no-such-key')),
    4,
  );
  const few = summarize(
    timeEach(ROUNDS, () => searchConfigs(sources, 'field_123_')),
    4,
  );
  const capped = summarize(
    timeEach(ROUNDS, () => searchConfigs(sources, 'timeout')),
    4,
  );

  const manager = await startManagerProcess();
  const samples: number[] = [];
  try {
    const get = async () => {
      const response = await fetch(`${manager.url}/api/search?q=threshold`, {
        headers: { Authorization: `Bearer ${BENCH_TOKEN}` },
      });
      if (!response.ok) throw new Error(`search answered ${response.status}`);
      await response.json();
    };
    for (let i = 0; i < 20; i++) await get();
    for (let i = 0; i < REQUESTS; i++) {
      const started = performance.now();
      await get();
      samples.push(performance.now() - started);
    }
  } finally {
    await manager.stop();
  }
  const http = summarize(samples, 2);
  return {
    suite: 'search',
    issue: 'issue 7',
    figures: [
      {
        name: '10 services × 200 keys, no match (reads every leaf): median',
        value: noMatch.median,
        unit: 'ms',
      },
      { name: '10 services × 200 keys, no match: p99', value: noMatch.p99, unit: 'ms' },
      {
        name: '10 services × 200 keys, 10 hits: median / p99',
        value: `${few.median} / ${few.p99}`,
        unit: 'ms',
      },
      {
        name: '10 services × 200 keys, 200 hits (capped): median / p99',
        value: `${capped.median} / ${capped.p99}`,
        unit: 'ms',
      },
      {
        name: `GET /api/search over HTTP (${http.n} sequential): median`,
        value: http.median,
        unit: 'ms',
      },
      {
        name: 'GET /api/search over HTTP: p99',
        value: http.p99,
        unit: 'ms',
        target: '< 300 ms for results',
      },
    ],
    notes: [
      'The page shows results after one GET /api/search; its time is the HTTP figure plus the search ' +
        'itself, which grows with the number of keys as the in-process figures show.',
    ],
  };
}
