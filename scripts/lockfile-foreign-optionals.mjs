// `npm run lock:fix` (run after any dependency change).
//
// The package registry reachable from our machines serves only this platform's builds of
// packages such as @swc/core-darwin-arm64, so `npm install` records no lock entries for the
// other platforms' optional binaries, and `npm ci` then refuses the lock file as "out of sync".
// This adds those entries (optional, with their os/cpu) so `npm ci` accepts the lock file and
// skips them on platforms they are not for, as it would with a complete lock file.
import { readFileSync, writeFileSync } from 'node:fs';

const LOCK = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(LOCK, 'utf8'));
const packages = lock.packages;

const OS = [
  'darwin',
  'win32',
  'freebsd',
  'openbsd',
  'netbsd',
  'sunos',
  'aix',
  'android',
  'openharmony',
  'linux',
];
const CPU = [
  'arm64',
  'x64',
  'ia32',
  'arm',
  'ppc64',
  's390x',
  'riscv64',
  'loong64',
  'mips64el',
  'wasm32',
];
const guess = (name, options) =>
  options.find((o) => new RegExp(`(^|[-/])${o}([-.]|$)|${o}(gnu|musl|msvc|eabi)`).test(name));

let added = 0;
for (const [path, meta] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(meta.optionalDependencies ?? {})) {
    const nested = `${path ? `${path}/` : ''}node_modules/${name}`;
    if (packages[nested] || packages[`node_modules/${name}`]) continue;
    const entry = { version, optional: true };
    if (meta.dev) entry.dev = true;
    if (meta.devOptional) entry.devOptional = true;
    const os = guess(name, OS);
    const cpu = guess(name, CPU);
    if (os) entry.os = [os];
    if (cpu) entry.cpu = [cpu];
    packages[`node_modules/${name}`] = entry;
    added++;
  }
}

lock.packages = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) =>
    a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0,
  ),
);
writeFileSync(LOCK, JSON.stringify(lock, null, 2) + '\n');
console.log(
  `lock file: added ${added} optional entr${added === 1 ? 'y' : 'ies'} for other platforms`,
);
