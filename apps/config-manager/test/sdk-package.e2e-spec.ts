import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { BILLING_WORKER, billingWorkerSchema, WorkerProcess, waitForInstance } from '@app/testing';
import { startManager, type TestManager } from './support/test-app';

const run = promisify(execFile);
const REPO = resolve(__dirname, '..', '..', '..');
const PACKAGE_DIR = join(REPO, 'dist', 'packages', 'config-client');
const NAME = '@config-centre/config-client';
const INSTANCE = 'billing-sdk-1';

interface Manifest {
  name: string;
  version: string;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
}

/** The environment a shell gives npm and node: none of what `npm test` and jest add (npm_*, NODE_*). */
function shellEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !/^(npm_|node_)/i.test(key)) env[key] = value;
  }
  return env;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

/** Every module a compiled file loads (.js) or names for its types (.d.ts). */
function specifiersOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const patterns = file.endsWith('.d.ts')
    ? [
        /\bfrom\s+["']([^"']+)["']/g,
        /\bimport\(["']([^"']+)["']\)/g,
        /^import\s+["']([^"']+)["']/gm,
        /reference types="([^"]+)"/g,
      ]
    : [/\brequire\(["']([^"']+)["']\)/g];
  return patterns.flatMap((pattern) => [...text.matchAll(pattern)].map((match) => match[1]));
}

const packageNameOf = (specifier: string): string =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');

const isBuiltin = (specifier: string): boolean =>
  specifier.startsWith('node:') || builtinModules.includes(specifier.split('/')[0]);

/** A relative specifier's target, as Node (.js) or tsc (.d.ts) looks it up. */
function resolvesInside(root: string, file: string, specifier: string): boolean {
  const target = resolve(dirname(file), specifier);
  const bare = target.replace(/\.js$/, '');
  const candidates = file.endsWith('.d.ts')
    ? [`${bare}.d.ts`, join(bare, 'index.d.ts')]
    : [target, `${target}.js`, join(target, 'index.js')];
  return target.startsWith(root + sep) && candidates.some((candidate) => existsSync(candidate));
}

/** The first ```js block of the package's README: the ten-line worker it promises. */
function readmeWorker(readme: string): string {
  const block = /```js\n([\s\S]*?)```/.exec(readme);
  if (!block) throw new Error('the package README has no ```js worker');
  return block[1];
}

/**
 * The Node SDK as a team gets it: built (`npm run build:sdk`), packed, installed from the tarball
 * in a project outside the repository, and the README's worker run from there against a manager.
 */
describe('the Node SDK package', () => {
  let work: string;
  let project: string;
  let installed: string;
  let manifest: Manifest;

  beforeAll(async () => {
    await run(process.execPath, [join(REPO, 'scripts', 'build-sdk.mjs')], { cwd: REPO });
    work = mkdtempSync(join(tmpdir(), 'sdk-package-'));
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], {
      cwd: PACKAGE_DIR,
      env: shellEnv(),
    });
    const [{ filename }] = JSON.parse(stdout) as { filename: string }[];
    project = join(work, 'team-worker');
    mkdirSync(project);
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'team-worker', version: '1.0.0', private: true }),
    );
    // From the tarball; its dependencies from npm's cache when they are there (the registry else).
    await run(
      'npm',
      ['install', join(work, filename), '--prefer-offline', '--no-audit', '--no-fund'],
      { cwd: project, env: shellEnv() },
    );
    installed = join(project, 'node_modules', ...NAME.split('/'));
    manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as Manifest;
  }, 180_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('holds only compiled files that load nothing but its files, Node and its declared dependencies', () => {
    const files = filesUnder(installed).map((file) =>
      relative(installed, file).split(sep).join('/'),
    );
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md']));
    expect(files.filter((file) => !/^lib\/.*\.(js|d\.ts)$/.test(file)).sort()).toEqual([
      'README.md',
      'package.json',
    ]);
    expect(files.filter((file) => /\.spec\.|\/testing\/|\/test\//.test(file))).toEqual([]);
    expect(
      files.filter((file) => readFileSync(join(installed, file), 'utf8').includes('@app/')),
    ).toEqual([]);

    const declared = new Set([
      ...Object.keys(manifest.dependencies),
      ...Object.keys(manifest.peerDependencies),
    ]);
    const used = new Set<string>();
    const strays: string[] = [];
    for (const file of filesUnder(join(installed, 'lib'))) {
      for (const specifier of specifiersOf(file)) {
        if (specifier.startsWith('.')) {
          if (!resolvesInside(installed, file, specifier))
            strays.push(`${relative(installed, file)}: ${specifier}`);
        } else if (!isBuiltin(specifier)) {
          used.add(packageNameOf(specifier));
          if (!declared.has(packageNameOf(specifier)))
            strays.push(`${relative(installed, file)}: ${specifier}`);
        }
      }
    }
    expect(strays).toEqual([]);
    // Nothing declared that the code does not load: each one is installed in every team's project.
    expect([...used].sort()).toEqual([...declared].sort());
  });

  it('declares the versions the monorepo is built and tested with', () => {
    const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version: string }>;
    };
    const ranges = { ...manifest.dependencies, ...manifest.peerDependencies };
    for (const [name, range] of Object.entries(ranges)) {
      const tested = lock.packages[`node_modules/${name}`].version;
      const major = tested.split('.')[0];
      expect({ name, range }).toEqual({
        name,
        range: name in manifest.peerDependencies ? `^${major}.0.0` : `^${tested}`,
      });
    }
    expect(manifest.peerDependencies).toEqual({ '@nestjs/common': expect.any(String) });
  });

  it('loads from CommonJS and ES modules, and resolves its Nest entry', async () => {
    const cjs = await run(
      process.execPath,
      [
        '-e',
        `const sdk = require('${NAME}'); console.log(typeof sdk.ConfigClient, typeof sdk.configClientOptionsFromEnv, 'ConfigClientModule' in sdk)`,
      ],
      { cwd: project, env: shellEnv() },
    );
    expect(cjs.stdout.trim()).toBe('function function false');
    const esm = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { ConfigClient } from '${NAME}'; import { Secret } from '${NAME}/contracts'; console.log(typeof ConfigClient, typeof Secret)`,
      ],
      { cwd: project, env: shellEnv() },
    );
    expect(esm.stdout.trim()).toBe('function function');
    const nest = await run(
      process.execPath,
      ['-e', `console.log(require.resolve('${NAME}/nest'))`],
      { cwd: project, env: shellEnv() },
    );
    expect(nest.stdout.trim()).toBe(
      join(installed, 'lib', 'config-client', 'src', 'config-client.module.js'),
    );
  });

  it('type-checks a TypeScript consumer against its declarations alone', async () => {
    writeFileSync(
      join(project, 'consumer.ts'),
      [
        `import { ConfigClient, configClientOptionsFromEnv } from '${NAME}';`,
        `import type { ConfigClientOptions } from '${NAME}';`,
        `import { type JsonSchema, Secret } from '${NAME}/contracts';`,
        "const schema: JsonSchema = { type: 'object', properties: { batch_size: { type: 'integer' } } };",
        'const options: ConfigClientOptions = { ...configClientOptionsFromEnv(process.env), schema };',
        'const client = new ConfigClient<{ batch_size: number }>(options);',
        'export const size: number = client.beginRun().config.batch_size;',
        'export { Secret };',
        '',
      ].join('\n'),
    );
    // Node's resolution (the exports map) and the older one many projects still use (typesVersions).
    const checks = [
      { module: 'node16', moduleResolution: 'node16' },
      { module: 'commonjs', moduleResolution: 'node' },
    ].map(async (resolution) => {
      const config = join(project, `tsconfig.${resolution.moduleResolution}.json`);
      writeFileSync(
        config,
        JSON.stringify({
          compilerOptions: {
            ...resolution,
            strict: true,
            target: 'ES2022',
            noEmit: true,
            skipLibCheck: false,
            types: ['node'],
          },
          files: ['consumer.ts'],
        }),
      );
      const tsc = run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', config], {
        cwd: project,
        env: shellEnv(),
      });
      return tsc.then(
        () => `${resolution.moduleResolution}: ok`,
        (error: { stdout: string }) => `${resolution.moduleResolution}: ${error.stdout}`,
      );
    });
    expect(await Promise.all(checks)).toEqual(['node16: ok', 'node: ok']);
  }, 60_000);

  describe('with a manager', () => {
    let sut: TestManager;
    let worker: WorkerProcess | undefined;

    beforeEach(async () => {
      sut = await startManager({ store: 'sqlite' });
    });

    afterEach(async () => {
      await worker?.kill('SIGTERM');
      worker = undefined;
      await sut.close();
    });

    it("runs the README's worker from the installed package and applies a PATCH", async () => {
      await sut.api.registerService(BILLING_WORKER, { schema: billingWorkerSchema() }).expect(201);
      const script = join(project, 'worker.js');
      writeFileSync(script, readmeWorker(readFileSync(join(installed, 'README.md'), 'utf8')));
      worker = WorkerProcess.node(script, project, {
        NODE_ENV: 'production',
        ...(await sut.api.workerEnv({
          service: BILLING_WORKER,
          instanceId: INSTANCE,
          dataDir: join(project, 'data'),
        })),
      });
      await worker.waitForLine(/^run on version 1: batch_size=50$/);

      await sut.api.patchConfig(BILLING_WORKER, { batch_size: 80 }).expect(200);
      await worker.waitForLine(/^run on version 2: batch_size=80$/);
      await waitForInstance(sut, (i) => i.appliedVersion === 2 && i.status === 'online', {
        service: BILLING_WORKER,
        instanceId: INSTANCE,
      });

      // SIGTERM: the README's worker stops its client, which reports the instance offline.
      expect(await worker.kill('SIGTERM')).toBe(0);
      worker = undefined;
      await waitForInstance(sut, (i) => i.status === 'offline' && i.appliedVersion === 2, {
        service: BILLING_WORKER,
        instanceId: INSTANCE,
      });
    }, 60_000);
  });
});
