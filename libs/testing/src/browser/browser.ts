import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { REPO_ROOT } from '../repo-root';

/** Debian's chromium (`apt-get install chromium`, done by .ci/run); override with CHROMIUM_PATH. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Whether browser tests can run here. In CI a missing browser is an error, not a skip: .ci/run
 * installs it, so its absence means the pipeline is broken.
 */
export function browserAvailable(): boolean {
  if (existsSync(CHROMIUM_PATH)) return true;
  if (process.env.CI) throw new Error(`no Chromium at ${CHROMIUM_PATH}: .ci/run installs it`);
  console.warn(
    `Skipping browser tests: no Chromium at ${CHROMIUM_PATH} (apt-get install chromium)`,
  );
  return false;
}

/** Builds the admin page from source into a fresh directory (what `npm run build` does). */
export function buildAdminUi(): string {
  const outDir = mkdtempSync(join(tmpdir(), 'admin-ui-'));
  const result = spawnSync(
    process.execPath,
    [
      join(REPO_ROOT, 'node_modules/vite/bin/vite.js'),
      'build',
      '--config',
      join(REPO_ROOT, 'apps/admin-ui/vite.config.mts'),
      '--logLevel',
      'error',
    ],
    { cwd: REPO_ROOT, env: { ...process.env, ADMIN_UI_OUT_DIR: outDir }, encoding: 'utf8' },
  );
  if (result.status !== 0) {
    throw new Error(`vite build failed:\n${result.stdout}\n${result.stderr}`);
  }
  return outDir;
}

/**
 * Headless Chromium as this machine allows it: no sandbox (root), and no background
 * networking, whose connections the closed network here refuses.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Where the screenshots of the main screens go (git-ignored). */
export const SCREENSHOTS_DIR = join(REPO_ROOT, 'screenshots');
