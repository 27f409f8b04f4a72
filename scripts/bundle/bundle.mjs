// `node scripts/bundle/bundle.mjs [OUT_DIR]` (the last step of `npm run build`): each app, with
// every module it loads, in one file, and V8's code cache of it. OUT_DIR (default dist/bundle)
// then holds, per app:
//   <app>.js            the launcher (scripts/bundle/launcher.cjs): `node dist/bundle/<app>.js`
//   <app>.bundle.js     the app's start.ts and everything it imports, as CommonJS modules
//   <app>.bundle.cache  the code cache the launcher compiles the bundle with
// TypeScript is compiled by swc with the options the tests run under (scripts/swc-options.cjs):
// legacy decorators with their metadata, CommonJS module semantics. Native addons, packages that
// serve their own files and optional packages that are not installed stay outside, loaded from
// node_modules at run time, so a bundle runs from the repository or an image with node_modules.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { transform } from '@swc/core';
import { rolldown } from 'rolldown';

const ROOT = resolve(import.meta.dirname, '..', '..');

/** The apps bundled, by their directory under apps/. */
export const APPS = ['config-manager', 'dedup-worker'];

// The `@app/*` aliases, from the tsconfig.json that tsc and the editors read (each maps to a lib's
// src directory; the bundler is given its index.ts).
const ALIASES = Object.fromEntries(
  Object.entries(
    JSON.parse(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8')).compilerOptions.paths,
  ).map(([alias, [directory]]) => [alias, join(ROOT, directory, 'index.ts')]),
);

const EXTERNAL = [
  // Native addons: found through their own package directory.
  'better-sqlite3',
  'pg-native',
  'bufferutil',
  'utf-8-validate',
  // Serves the files of its own package (the API docs page).
  'swagger-ui-dist',
  // Optional packages Nest and others try to load and do without when they are not installed.
  /^@nestjs\/(microservices|websockets|platform-fastify|platform-socket\.io)(\/|$)/,
  /^@fastify\//,
  /^@grpc\//,
  'fsevents',
];

// What one app never loads although a dependency names it: the worker runs a Nest application
// context, never an HTTP server, so Nest's Express adapter (Express, multer, body parsers)
// stays out of its bundle rather than being read and cached at every start.
const EXTERNAL_BY_APP = {
  'dedup-worker': ['@nestjs/platform-express'],
};

const SWC_OPTIONS = {
  ...createRequire(import.meta.url)('../swc-options.cjs'),
  sourceMaps: false,
  swcrc: false,
  configFile: false,
};

const typescript = {
  name: 'swc-typescript',
  async transform(code, id) {
    if (!id.endsWith('.ts')) return null;
    const output = await transform(code, { ...SWC_OPTIONS, filename: id });
    return { code: output.code, moduleType: 'js' };
  },
};

/**
 * Bundles `app` (apps/<app>/src/start.ts) into `outDir`, copies the launcher beside it and, unless
 * `codeCache` is false, writes the code cache in a fresh Node process. Rejects with the bundler's
 * errors; warnings about unresolved optional imports are left out (they stay external).
 */
export async function bundleApp(
  app,
  { outDir = join(ROOT, 'dist/bundle'), codeCache = true } = {},
) {
  mkdirSync(outDir, { recursive: true });
  const bundleFile = join(outDir, `${app}.bundle.js`);
  const build = await rolldown({
    input: join(ROOT, 'apps', app, 'src', 'start.ts'),
    platform: 'node',
    external: [...EXTERNAL, ...(EXTERNAL_BY_APP[app] ?? [])],
    resolve: { alias: ALIASES },
    plugins: [typescript],
    logLevel: 'silent',
  });
  try {
    await build.write({ file: bundleFile, format: 'cjs', codeSplitting: false });
  } finally {
    await build.close();
  }
  const launcher = join(outDir, `${app}.js`);
  copyFileSync(join(import.meta.dirname, 'launcher.cjs'), launcher);
  rmSync(join(outDir, `${app}.bundle.cache`), { force: true });
  if (codeCache) writeCodeCache(launcher);
  return { launcher, bundleFile };
}

/** Writes the launcher's code cache from a fresh process (the cache holds what that one compiled). */
export function writeCodeCache(launcher) {
  const result = spawnSync(
    process.execPath,
    // process.argv[1] as when the launcher is started (some modules look at it when loaded).
    [
      '-e',
      `process.argv[1] = ${JSON.stringify(launcher)};` +
        `process.stdout.write(require(process.argv[1]).writeCodeCache())`,
    ],
    { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } },
  );
  if (result.status !== 0) {
    throw new Error(`code cache for ${launcher} failed:\n${result.stderr}`);
  }
  return result.stdout;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const outDir = resolve(process.argv[2] ?? join(ROOT, 'dist/bundle'));
  for (const app of APPS) {
    const started = performance.now();
    const { launcher } = await bundleApp(app, { outDir });
    console.log(`bundle: ${launcher} (${Math.round(performance.now() - started)} ms)`);
  }
}
