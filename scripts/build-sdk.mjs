// `npm run build:sdk`: the Node SDK (libs/config-client with the parts of libs/contracts and
// libs/crypto it uses) as an installable package in dist/packages/config-client, ready for
// `npm pack`. tsc compiles from the package's entry points only, so specs and @app/testing never
// get in; tsc-alias then turns the @app/* aliases into relative requires (in the .d.ts files too),
// because nothing outside the monorepo resolves them.
import { spawnSync } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const lib = join(root, 'libs', 'config-client');
const tsconfig = join(lib, 'tsconfig.package.json');
const out = join(root, 'dist', 'packages', 'config-client');
const require = createRequire(import.meta.url);

rmSync(out, { recursive: true, force: true });

const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', tsconfig], {
  cwd: root,
  stdio: 'inherit',
});
if (tsc.status !== 0) {
  console.error('build:sdk: tsc failed (see above)');
  process.exit(tsc.status ?? 1);
}

const { replaceTscAliasPaths } = require('tsc-alias');
await replaceTscAliasPaths({ configFile: tsconfig });

copyFileSync(join(lib, 'package.json'), join(out, 'package.json'));
copyFileSync(join(lib, 'README.md'), join(out, 'README.md'));

// An alias left behind (an import tsc-alias did not see, a comment, a message) would point the
// package's users at a monorepo they do not have.
const leftovers = readdirSync(out, { recursive: true, withFileTypes: true })
  .filter((entry) => entry.isFile())
  .map((entry) => join(entry.parentPath, entry.name))
  .filter((file) => readFileSync(file, 'utf8').includes('@app/'));
if (leftovers.length > 0) {
  console.error(
    `build:sdk: "@app/" is still in ${leftovers.map((file) => relative(root, file)).join(', ')}`,
  );
  process.exit(1);
}

const { name, version } = JSON.parse(readFileSync(join(out, 'package.json'), 'utf8'));
console.log(`build:sdk: ${name}@${version} in ${relative(root, out)}`);
