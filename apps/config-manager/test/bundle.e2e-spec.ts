// The build's bundles (scripts/bundle/bundle.mjs, dist/bundle): what `npm start` and the images
// run. Built here into a temporary directory by the same script `npm run build` runs, then started
// as their own processes: the bundled manager serves, signs and publishes, the bundled worker
// applies, and the launcher compiles each bundle with the code cache the build wrote.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InstanceView } from '@app/contracts';
import { bearer, freePort, REPO_ROOT, storeEnv, TOKENS, until, WorkerProcess } from '@app/testing';

const SERVICE = 'dedup-worker';

function node(args: string[]) {
  return spawnSync(process.execPath, args, { cwd: REPO_ROOT, encoding: 'utf8' });
}

/** What the launcher in `dir` does with the code cache beside its bundle: accepted, rejected or none. */
function codeCacheVerdict(launcher: string): string {
  const result = node([
    '-e',
    `const l = require(${JSON.stringify(launcher)});` +
      'const cache = l.readCache();' +
      'const script = l.compile(cache);' +
      "process.stdout.write(cache === undefined ? 'none' : script.cachedDataRejected ? 'rejected' : 'accepted')",
  ]);
  if (result.status !== 0) throw new Error(result.stderr);
  return result.stdout;
}

describe('the bundled apps (npm run build → dist/bundle)', () => {
  let outDir: string;
  let dataDir: string;

  beforeAll(() => {
    outDir = mkdtempSync(join(tmpdir(), 'cm-bundle-'));
    dataDir = mkdtempSync(join(tmpdir(), 'cm-bundle-data-'));
    const built = node(['scripts/bundle/bundle.mjs', outDir]);
    if (built.status !== 0) throw new Error(`bundle.mjs failed:\n${built.stdout}${built.stderr}`);
  }, 120000);

  afterAll(() => {
    rmSync(outDir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('writes a code cache beside each bundle that the launcher compiles with', () => {
    for (const app of ['config-manager', 'dedup-worker']) {
      expect(codeCacheVerdict(join(outDir, `${app}.js`))).toBe('accepted');
    }
  });

  it('runs the manager and the worker from their bundles: a PATCH is signed, pushed and applied', async () => {
    const port = await freePort();
    const brokerPort = await freePort();
    const manager = WorkerProcess.command(process.execPath, [join(outDir, 'config-manager.js')], {
      ...storeEnv('sqlite', dataDir),
      PORT: String(port),
      HOST: '127.0.0.1',
      MQTT_EMBEDDED_PORT: String(brokerPort),
    });
    let worker: WorkerProcess | undefined;
    const api = `http://127.0.0.1:${port}/api/services/${SERVICE}`;
    try {
      await manager.waitForLine(/config-manager listening on/, 30000);
      // The dev keys the bundled manager generated in DATA_DIR, as `npm start` shares them.
      worker = WorkerProcess.command(process.execPath, [join(outDir, 'dedup-worker.js')], {
        NODE_ENV: 'test',
        DATA_DIR: dataDir,
        MQTT_URL: `mqtt://127.0.0.1:${brokerPort}`,
        INSTANCE_ID: 'bundled-1',
        INITIAL_CONFIG_TIMEOUT_MS: '1000',
      });
      await worker.waitForLine(/Accepted dedup-worker config version 1\b/, 30000);

      const patched = await fetch(`${api}/config`, {
        method: 'PATCH',
        headers: { ...bearer(TOKENS.admin), 'Content-Type': 'application/json' },
        body: JSON.stringify({ thresholds: { high: 0.81 } }),
      });
      expect(patched.status).toBe(200);
      await worker.waitForLine(/Accepted dedup-worker config version 2\b/, 10000);

      const instance = await until(
        'the bundled worker reported version 2 applied',
        async () => {
          const response = await fetch(`${api}/instances`, { headers: bearer(TOKENS.reader) });
          const instances = (await response.json()) as InstanceView[];
          return instances.find((i) => i.instanceId === 'bundled-1' && i.appliedVersion === 2);
        },
        { timeoutMs: 10000 },
      );
      expect(instance.appliedVersion).toBe(2);
    } finally {
      await worker?.kill('SIGTERM');
      await manager.kill('SIGTERM');
    }
  }, 90000);

  it('refuses a bad environment at start: exit 1 and one line naming the variable, no stack trace', async () => {
    const cases: Array<{ app: string; env: Record<string, string>; variable: string }> = [
      {
        app: 'config-manager',
        env: { ...storeEnv('sqlite', dataDir), PORT: 'eighty' },
        variable: 'PORT',
      },
      {
        app: 'dedup-worker',
        env: { NODE_ENV: 'test', DATA_DIR: dataDir, INITIAL_CONFIG_TIMEOUT_MS: 'soon' },
        variable: 'INITIAL_CONFIG_TIMEOUT_MS',
      },
    ];
    for (const { app, env, variable } of cases) {
      const started = WorkerProcess.command(process.execPath, [join(outDir, `${app}.js`)], env);
      expect(await started.exit()).toBe(1);
      const failure = started.lines.filter((line) => line.includes('failed to start'));
      expect(failure).toHaveLength(1);
      expect(failure[0]).toContain(`${app} failed to start:`);
      expect(failure[0]).toContain(variable);
      expect(started.lines.join('\n')).not.toMatch(/^\s+at /m);
    }
  }, 60000);

  it('compiles from source when the code cache is damaged, and still starts from the last-known-good file', async () => {
    // A copy of the worker's bundle whose cache V8 must refuse (same size, other bytes).
    const damaged = mkdtempSync(join(tmpdir(), 'cm-bundle-damaged-'));
    try {
      for (const file of ['dedup-worker.js', 'dedup-worker.bundle.js']) {
        copyFileSync(join(outDir, file), join(damaged, file));
      }
      const cache = readFileSync(join(outDir, 'dedup-worker.bundle.cache'));
      writeFileSync(
        join(damaged, 'dedup-worker.bundle.cache'),
        cache.map((byte) => byte ^ 0x5a),
      );
      expect(codeCacheVerdict(join(damaged, 'dedup-worker.js'))).toBe('rejected');

      // The LKG file the worker of the test above saved holds version 2; no broker listens.
      const worker = WorkerProcess.command(process.execPath, [join(damaged, 'dedup-worker.js')], {
        NODE_ENV: 'test',
        DATA_DIR: dataDir,
        MQTT_URL: `mqtt://127.0.0.1:${await freePort()}`,
        INSTANCE_ID: 'bundled-1',
      });
      try {
        await worker.waitForLine(/Loaded last-known-good dedup-worker config version 2\b/, 30000);
        await worker.waitForLine(/dedup-worker bundled-1 started/, 10000);
      } finally {
        await worker.kill('SIGTERM');
      }
    } finally {
      rmSync(damaged, { recursive: true, force: true });
    }
  }, 60000);
});
