import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import { summarize } from '../lib/stats';
import { BENCH_TOKEN, startManagerProcess } from '../lib/manager-process';
import type { SuiteResult } from '../lib/report';

const VERSIONS = Number(process.env.BENCH_VERSIONS ?? 10000);
const GET_SECONDS = Number(process.env.BENCH_GET_SECONDS ?? 30);
const AUTH = { Authorization: `Bearer ${BENCH_TOKEN}` };
const CATEGORIES = ['music', 'markets', 'talks', 'theatre', 'sports', 'family', 'food', 'art'];

/** A realistic admin edit: one or two sections tuned, sometimes category weights. */
function realisticPatch(i: number): object {
  const pick = <T>(xs: readonly T[]) => xs[i % xs.length];
  switch (i % 6) {
    case 0:
      return { thresholds: { high: 0.7 + (i % 20) / 100, low: 0.3 + (i % 10) / 100 } };
    case 1:
      return { geo: { max_distance_km: 5 + (i % 30), min_confidence: 0.8 + (i % 10) / 100 } };
    case 2:
      return {
        date: { time_tolerance_minutes: 15 + (i % 30), close_factor: 0.6 + (i % 30) / 100 },
      };
    case 3:
      return { category_weights: { priority: CATEGORIES.slice(0, 1 + (i % CATEGORIES.length)) } };
    case 4:
      return {
        category_weights: {
          overrides: {
            [pick(CATEGORIES)]: {
              date: 0.4,
              geo: 0.2,
              title: 0.3 - (i % 5) / 100,
              description: 0.1 + (i % 5) / 100,
            },
          },
        },
      };
    default:
      return {
        ai: { temperature: (i % 100) / 100, max_output_tokens: 1024 + (i % 64) * 16 },
        cluster: { max_cluster_size: 2 + (i % 30) },
      };
  }
}

/** Issue 2: history size after 10,000 versions on SQLite, PATCH latency, GET throughput. */
export async function configStoreBench(): Promise<SuiteResult> {
  const manager = await startManagerProcess();
  try {
    const patchMs: number[] = [];
    for (let i = 0; i < VERSIONS; i++) {
      const started = performance.now();
      const res = await fetch(`${manager.url}/api/services/dedup-worker/config`, {
        method: 'PATCH',
        headers: { ...AUTH, 'Content-Type': 'application/json' },
        body: JSON.stringify(realisticPatch(i)),
      });
      patchMs.push(performance.now() - started);
      if (res.status !== 200)
        throw new Error(`PATCH ${i} answered ${res.status}: ${await res.text()}`);
      await res.arrayBuffer();
    }
    const current = (await (
      await fetch(`${manager.url}/api/services/dedup-worker/config`, { headers: AUTH })
    ).json()) as {
      version: number;
    };

    const db = new Database(manager.dbFile);
    db.pragma('wal_checkpoint(TRUNCATE)');
    const versions = db
      .prepare('SELECT COUNT(*) AS n, SUM(LENGTH(snapshot)) AS bytes FROM config_versions')
      .get() as {
      n: number;
      bytes: number;
    };
    db.close();
    const fileBytes = statSync(manager.dbFile).size;

    const health = await load(`${manager.url}/health`, {});
    const get = await load(`${manager.url}/api/services/dedup-worker/config`, AUTH);
    const patch = summarize(patchMs);
    return {
      suite: 'config store and REST API',
      issue: 'issue 2',
      figures: [
        { name: 'versions stored', value: versions.n },
        {
          name: 'SQLite file after checkpoint',
          value: (fileBytes / 1e6).toFixed(2),
          unit: 'MB',
          target: '< 10 MB for 10,000 versions',
        },
        {
          name: 'file bytes per version (incl. audit row, indexes)',
          value: Math.round(fileBytes / versions.n),
        },
        {
          name: 'snapshot bytes per version (compressed)',
          value: Math.round(versions.bytes / versions.n),
        },
        { name: 'PATCH latency median', value: patch.median, unit: 'ms' },
        { name: 'PATCH latency p99', value: patch.p99, unit: 'ms' },
        { name: 'GET config throughput', value: Math.round(get.requests.average), unit: 'req/s' },
        {
          name: 'GET config latency median / p99',
          value: `${get.latency.p50} / ${get.latency.p99}`,
          unit: 'ms',
        },
        {
          name: 'GET config vs GET /health throughput',
          value: (get.requests.average / health.requests.average).toFixed(2),
          unit: '×',
        },
      ],
      notes: [
        `final version ${current.version}; ${VERSIONS} sequential PATCHes over HTTP with realistic partial edits`,
        `GET measured with autocannon, 10 connections, ${GET_SECONDS} s, manager in its own process on SQLite`,
      ],
    };
  } finally {
    await manager.stop();
  }
}

async function load(url: string, headers: Record<string, string>): Promise<autocannon.Result> {
  return autocannon({ url, headers, connections: 10, duration: GET_SECONDS });
}
