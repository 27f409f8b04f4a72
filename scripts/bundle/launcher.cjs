'use strict';
// dist/bundle/<app>.js, copied here by scripts/bundle/bundle.mjs (`npm run build`): starts <app>
// from <app>.bundle.js, every module of the app and its dependencies in one file, compiled with
// V8's code cache <app>.bundle.cache. Reading one file and a code cache instead of resolving,
// reading and compiling some 1,400 modules roughly halves the time to ready (docs/performance.md).
//
// The code cache is written only by the build (`writeCodeCache`, below), never while the app
// runs: the files that decide what runs stay as writable as the code itself. V8 checks the cache
// against the source, its own version and flags; a cache it rejects, or none, means the bundle
// is compiled from source, as fast as without the cache.
const { readFileSync, renameSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const { basename, join } = require('node:path');
const vm = require('node:vm');

const app = basename(__filename, '.js');
const bundleFile = join(__dirname, `${app}.bundle.js`);
const cacheFile = join(__dirname, `${app}.bundle.cache`);

function compile(cachedData) {
  return new vm.Script(Module.wrap(readFileSync(bundleFile, 'utf8')), {
    filename: bundleFile,
    cachedData,
    // `import()` inside the bundle loads as it would from a file Node loaded itself.
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
}

/** Runs the bundle's module code (not the app) and returns its exports: `{ start }`. */
function load(script) {
  const bundle = new Module(bundleFile, module);
  bundle.filename = bundleFile;
  bundle.paths = Module._nodeModulePaths(__dirname);
  const run = script.runInThisContext();
  run.call(
    bundle.exports,
    bundle.exports,
    Module.createRequire(bundleFile),
    bundle,
    bundleFile,
    __dirname,
  );
  bundle.loaded = true;
  return bundle.exports;
}

function readCache() {
  try {
    return readFileSync(cacheFile);
  } catch {
    return undefined;
  }
}

/**
 * Compiles the bundle from source, runs its module code (so V8 compiles every module body), and
 * writes the code cache beside it (temporary file, then rename). The build calls this in a fresh
 * process; the app itself is not started.
 */
function writeCodeCache() {
  const script = compile(undefined);
  load(script);
  const temporary = `${cacheFile}.${process.pid}.tmp`;
  writeFileSync(temporary, script.createCachedData());
  renameSync(temporary, cacheFile);
  return cacheFile;
}

// For the build (writeCodeCache) and the tests (what V8 made of the cache).
module.exports = { compile, readCache, writeCodeCache, bundleFile, cacheFile };

if (require.main === module) {
  const script = compile(readCache());
  void load(script).start();
}
