import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateBoxKeyPair, generateSigningKeyPair } from '@app/crypto';
import { generatedService } from '../lib/generated-services';
import { appEntry, cpuProfileArgs } from '../lib/hosts';
import { BENCH_TOKEN, startManagerProcess } from '../lib/manager-process';
import type { Figure, SuiteResult } from '../lib/report';
import { summarize } from '../lib/stats';

const SERVICES = Number(process.env.BENCH_START_SERVICES ?? 20);
const VERSIONS = Number(process.env.BENCH_START_VERSIONS ?? 10000);
const STARTS = Number(process.env.BENCH_START_RUNS ?? 5);
const TARGET_MS = 1000;
const AUTH = { Authorization: `Bearer ${BENCH_TOKEN}`, 'Content-Type': 'application/json' };

/**
 * Issue 18: manager cold start to ready. A SQLite store with SERVICES services registered through
 * PUT /api/services/:service (generated schemas of 200 keys) and VERSIONS versions in total (PATCHes
 * spread over the services) is prepared by one manager, which is stopped; then the manager is
 * started STARTS times on that store and each start is timed from process spawn to the first 200
 * from GET /health/ready. From the build's bundle (dist/bundle) when it is built, else from source.
 */
export async function startBench(): Promise<SuiteResult> {
  const entry = appEntry('config-manager');
  const dist = entry.built;
  const dataDir = mkdtempSync(join(tmpdir(), 'cm-bench-start-'));
  // The same keys on every start: the store's secrets and signatures must stay openable.
  const env = {
    CONFIG_MASTER_KEY: randomBytes(32).toString('base64'),
    CONFIG_SIGNING_KEY: generateSigningKeyPair().secretKey.toString('base64'),
  };
  try {
    const prepareStarted = performance.now();
    await prepare(dataDir, env, dist);
    const prepareS = (performance.now() - prepareStarted) / 1000;
    const dbBytes = statSync(join(dataDir, 'config.db')).size;
    const samples: number[] = [];
    for (let i = 0; i < STARTS; i++) {
      const manager = await startManagerProcess(env, cpuProfileArgs(), {
        dist,
        dataDir,
        readyPath: '/health/ready',
        pollMs: 5,
      });
      samples.push(manager.startMs);
      await manager.stop();
    }
    const stats = summarize(samples, 1);
    const figures: Figure[] = [
      {
        name: `cold start to ready (spawn → first 200 from /health/ready), median of ${STARTS}`,
        value: stats.median,
        unit: 'ms',
        target: `< ${TARGET_MS} ms`,
      },
      { name: 'slowest start', value: Math.max(...samples).toFixed(1), unit: 'ms' },
      { name: 'store size', value: (dbBytes / 1e6).toFixed(2), unit: 'MB' },
    ];
    return {
      suite: 'manager start-up',
      issue: 'issue 18',
      figures,
      notes: [
        `${entry.describe}; SQLite store with ${SERVICES} services (generated schemas of 200 keys, registered with PUT) and ${VERSIONS} versions in total, prepared in ${prepareS.toFixed(0)} s; starts: ${samples.map((ms) => ms.toFixed(0)).join(', ')} ms`,
      ],
    };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Registers the services and writes the versions (round robin), then stops the manager. */
export async function prepare(
  dataDir: string,
  env: Record<string, string>,
  dist: boolean,
): Promise<void> {
  const manager = await startManagerProcess(env, [], { dist, dataDir });
  try {
    const services = Array.from({ length: SERVICES }, (_, i) => generatedService(i));
    const recipientKey = generateBoxKeyPair().publicKey.toString('base64');
    for (const service of services) {
      const res = await fetch(`${manager.url}/api/services/${service.name}`, {
        method: 'PUT',
        headers: AUTH,
        body: JSON.stringify({
          description: service.description,
          schema: service.schema,
          recipientKey,
        }),
      });
      if (res.status !== 201)
        throw new Error(`PUT ${service.name} answered ${res.status}: ${await res.text()}`);
    }
    // Each service has its first version already; the rest are PATCHes alternating two values.
    for (let i = 0; i < VERSIONS - SERVICES; i++) {
      const service = services[i % SERVICES];
      const patch = service.patches[Math.floor(i / SERVICES) % 2];
      const res = await fetch(`${manager.url}/api/services/${service.name}/config`, {
        method: 'PATCH',
        headers: AUTH,
        body: JSON.stringify(patch),
      });
      if (res.status !== 200)
        throw new Error(`PATCH ${service.name} answered ${res.status}: ${await res.text()}`);
      await res.arrayBuffer();
    }
  } finally {
    await manager.stop();
  }
}
