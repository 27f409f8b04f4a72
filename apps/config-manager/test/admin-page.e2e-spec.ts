import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  MqttProbe,
  startWorkerStack,
  TOKENS,
  waitForInstance,
  WorkerProcess,
  type WorkerStack,
  browserAvailable,
  buildAdminUi,
  launchChromium,
  SCREENSHOTS_DIR,
} from '@app/testing';
import type { Settings } from '../src/settings/settings';
import { CONFIG_MANAGER, type TestManager } from './support/test-app';

const SERVICE = 'dedup-worker';
const SECRET = 'sk-live-UI-0f1e2d3c4b5a69788796a5b4c3d2e1f0';
// Reasons beyond Latin-1, which a browser can send only encoded (RFC 8187).
const EDIT_REASON = 'fewer false merges — Köln 🎉';
const ROLLBACK_REASON = 'back to defaults (zurück 🔙)';

// One browser session walks through the admin page against a real manager (SQLite, embedded
// broker) and a real dedup-worker process; each test continues where the previous one stopped.
(browserAvailable() ? describe : describe.skip)('admin page in headless Chromium', () => {
  jest.setTimeout(60_000);

  let uiDir: string;
  let stack: WorkerStack<Settings>;
  let manager: TestManager;
  let worker: WorkerProcess;
  let workerDir: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let origin: string;
  const requested: string[] = [];
  const apiBodies: Promise<string>[] = [];

  beforeAll(async () => {
    uiDir = buildAdminUi();
    stack = await startWorkerStack(CONFIG_MANAGER, { ADMIN_UI_DIR: uiDir });
    manager = stack.manager;
    workerDir = mkdtempSync(join(tmpdir(), 'ui-worker-'));
    worker = WorkerProcess.start(stack.workerEnv(workerDir, 'ui-worker-1'));
    await waitForInstance(manager, (i) => i.status === 'online' && i.appliedVersion === 1, {
      timeoutMs: 20_000,
    });
    origin = await manager.app.getUrl();
    origin = origin.replace('[::1]', '127.0.0.1');
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('request', (request) => requested.push(request.url()));
    page.on('response', (response) => {
      if (response.url().includes('/api/')) apiBodies.push(response.text().catch(() => ''));
    });
    mkdirSync(SCREENSHOTS_DIR, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await worker?.kill('SIGTERM');
    await manager?.close();
    rmSync(uiDir, { recursive: true, force: true });
    rmSync(workerDir, { recursive: true, force: true });
  });

  const shot = (name: string) =>
    page.screenshot({ path: join(SCREENSHOTS_DIR, `${name}.png`), fullPage: true });
  const current = async () => (await manager.api.config(SERVICE).expect(200)).body;
  const field = (path: string) => page.locator(`#field-${path.replaceAll('.', '--')}`);
  const saveButton = () => page.getByRole('button', { name: 'Save', exact: true });

  it('refuses a wrong token, then signs in with the keyboard', async () => {
    await page.goto(origin);
    await page.getByLabel('API token').fill('not-a-token');
    await page.keyboard.press('Enter');
    await page.getByText('That token is not valid').waitFor();
    await shot('sign-in');

    await page.getByLabel('API token').fill(TOKENS.admin);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Services' }).waitFor();
    await page.getByRole('link', { name: SERVICE }).waitFor();
    expect(await page.getByTestId('service-version').textContent()).toBe('v1');
    await page.getByRole('img', { name: /1 on the current version, 0 on an older/ }).waitFor();
    await shot('services');
  });

  it('changes a threshold with a reason and saves it as a new version', async () => {
    await page.getByRole('link', { name: SERVICE }).click();
    await field('thresholds.high').fill('0.8');
    await page.getByLabel('Reason for the change').fill(EDIT_REASON);
    await page.getByText('1 unsaved change on version 1').waitFor();
    await shot('config-editor');
    await saveButton().click();
    await page.getByText('Saved as version 2.').waitFor();

    const after = await current();
    expect(after.version).toBe(2);
    expect(after.config.thresholds).toEqual({ high: 0.8, low: 0.35 });
    const history = await manager.api.versions(SERVICE).expect(200);
    expect(history.body[0]).toMatchObject({ version: 2, reason: EDIT_REASON });
  });

  it('shows the new version in history with its reason, and the diff', async () => {
    await page.getByRole('link', { name: 'History', exact: true }).click();
    const row = page.getByTestId('version-2');
    await row.waitFor();
    expect(await row.textContent()).toContain(EDIT_REASON);
    expect(await row.textContent()).toContain('update');
    const diff = page.locator('table.diff');
    await diff.getByText('thresholds.high').waitFor();
    expect(await diff.locator('td.old').first().textContent()).toBe('0.75');
    expect(await diff.locator('td.new').first().textContent()).toBe('0.8');
    await shot('history');
  });

  it("shows the worker's instance moving to the new version", async () => {
    await page.getByRole('link', { name: 'Instances', exact: true }).click();
    const row = page.getByTestId('instance-ui-worker-1');
    await row.getByText('online').waitFor();
    await row.getByTestId('applied-version').getByText('v2').waitFor();
    await shot('instances');
  });

  it('marks an instance that reports stale with a badge, and one that does not without', async () => {
    const health = await MqttProbe.connect(await manager.api.brokerUrl());
    try {
      await health.publish(
        `system/health/${SERVICE}/ui-stale-1`,
        JSON.stringify({
          service: SERVICE,
          instanceId: 'ui-stale-1',
          status: 'online',
          appliedVersion: 2,
          stale: true,
          attestedAt: new Date(Date.now() - 3_600_000).toISOString(),
          at: new Date().toISOString(),
        }),
      );
    } finally {
      await health.close();
    }
    const stale = page.getByTestId('instance-ui-stale-1');
    await stale.getByTestId('stale').waitFor();
    expect(await stale.textContent()).toContain('attested');
    expect(await page.getByTestId('instance-ui-worker-1').getByTestId('stale').count()).toBe(0);
  });

  it('checks that the weights sum to 1 before saving, and changes nothing', async () => {
    await page.getByRole('link', { name: 'Config', exact: true }).click();
    await field('scoring.date').fill('0.5');
    await page.getByTestId('sum-scoring').getByText('1.2', { exact: true }).waitFor();
    await page.getByText('scoring must sum to 1 (now 1.2)').waitFor();
    expect(await saveButton().isDisabled()).toBe(true);
    await shot('config-weights-error');

    await field('scoring.date').fill('0.3');
    await page.getByTestId('sum-scoring').getByText('✓').waitFor();
    expect(await saveButton().isDisabled()).toBe(true);
    expect((await current()).version).toBe(2);
  });

  it("shows the server's error at the field it names", async () => {
    // The client does not check override entries; the manager does, and names the entry.
    await field('category_weights.overrides').fill(
      '{ "music": { "date": 0.5, "geo": 0.5, "title": 0.5, "description": 0.5 } }',
    );
    await saveButton().click();
    const error = page.locator('#field-category_weights--overrides-error');
    await error.waitFor();
    expect(await error.textContent()).toMatch(/must sum to 1.*category_weights\.overrides\.music/);
    expect((await current()).version).toBe(2);
    await page.getByRole('button', { name: 'Discard changes' }).click();
    await page.getByText('Up to date with version 2').waitFor();
  });

  it('sets and clears the AI key without its value reaching the page or a response', async () => {
    await page.getByRole('link', { name: 'Secrets', exact: true }).click();
    const state = page.getByTestId('secret-state-ai.api_key');
    expect(await state.textContent()).toBe('not set');
    await page.getByLabel('Value', { exact: true }).fill(SECRET);
    expect(await page.content()).not.toContain(SECRET);
    await page.getByRole('button', { name: 'Set', exact: true }).click();
    await state.getByText(/^set · /).waitFor();
    expect(await page.getByLabel('Replace with').inputValue()).toBe('');
    expect((await current()).secrets['ai.api_key'].set).toBe(true);
    await shot('secrets');

    await page.getByRole('button', { name: 'Clear', exact: true }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Clear the secret' }).click();
    await state.getByText('not set').waitFor();
    expect((await current()).secrets['ai.api_key'].set).toBe(false);

    expect(await page.content()).not.toContain(SECRET);
    const bodies = await Promise.all(apiBodies);
    expect(bodies.length).toBeGreaterThan(10);
    expect(bodies.filter((body) => body.includes(SECRET))).toEqual([]);
  });

  it('resolves a 412 made by a concurrent API write by reapplying the change', async () => {
    await page.getByRole('link', { name: 'Config', exact: true }).click();
    const before = (await current()).version;
    await field('geo.max_distance_km').fill('20');
    // Another admin changes something else meanwhile.
    await manager.api
      .patchConfig(SERVICE, { thresholds: { low: 0.3 } }, { ifMatch: before })
      .expect(200);

    await saveButton().click();
    const conflict = page.getByRole('alert').filter({ hasText: 'Changed meanwhile' });
    await conflict.waitFor();
    await conflict.getByText('thresholds.low').waitFor();
    await shot('config-conflict');
    await page.getByRole('button', { name: `Reapply my changes on version ${before + 1}` }).click();
    expect(await field('geo.max_distance_km').inputValue()).toBe('20');
    await saveButton().click();
    await page.getByText(`Saved as version ${before + 2}.`).waitFor();

    const after = await current();
    expect(after.config.geo.max_distance_km).toBe(20);
    expect(after.config.thresholds.low).toBe(0.3);
  });

  it('rolls back to an earlier version after confirmation', async () => {
    await page.getByRole('link', { name: 'History', exact: true }).click();
    const latest = (await current()).version;
    await page.getByRole('button', { name: 'Roll back to v1' }).click();
    const dialog = page.getByRole('dialog');
    const confirm = dialog.getByRole('button', { name: 'Roll back to v1' });
    await dialog.getByLabel('Reason').fill('x'.repeat(501));
    await dialog.getByText('at most 500 characters').waitFor();
    expect(await confirm.isDisabled()).toBe(true);
    await dialog.getByLabel('Reason').fill(ROLLBACK_REASON);
    await confirm.click();
    await page.getByText(`now version ${latest + 1}`).waitFor();
    await page
      .getByTestId(`version-${latest + 1}`)
      .getByText('rollback')
      .waitFor();

    const after = await current();
    expect(after.version).toBe(latest + 1);
    expect(after.config.thresholds).toEqual({ high: 0.75, low: 0.35 });
    expect(after.config.geo.max_distance_km).toBe(10);
    const history = await manager.api.versions(SERVICE).expect(200);
    expect(history.body[0]).toMatchObject({ kind: 'rollback', reason: ROLLBACK_REASON });
    await waitForInstance(manager, (i) => i.appliedVersion === latest + 1, { timeoutMs: 10_000 });
  });

  it('finds a key with search and jumps to its field', async () => {
    await page.getByLabel('Search keys and values').fill('max_distance');
    const hit = page.getByRole('link', { name: /geo\.max_distance_km/ });
    await hit.waitFor();
    await shot('search');
    await hit.click();
    await field('geo.max_distance_km').waitFor();
    expect(await page.evaluate('document.activeElement?.id')).toBe('field-geo--max_distance_km');
  });

  it('lists the audit log for admins, filterable by text', async () => {
    await page.getByRole('link', { name: 'Audit' }).click();
    await page.getByRole('cell', { name: 'fewer false merges' }).waitFor();
    await page.getByLabel('Actor, kind, reason or key').fill('back to defaults');
    await page.getByRole('cell', { name: 'back to defaults' }).waitFor();
    expect(await page.getByRole('cell', { name: 'fewer false merges' }).count()).toBe(0);
    await shot('audit');
  });

  it('fits a phone screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('link', { name: 'Services' }).click();
    await page.getByRole('link', { name: SERVICE }).click();
    await field('thresholds.high').waitFor();
    await shot('phone-config-editor');
    const overflow = await page.evaluate(
      'document.documentElement.scrollWidth - document.documentElement.clientWidth',
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await shot('phone-config-editor');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('returns to sign-in when the token is refused', async () => {
    await page.evaluate("sessionStorage.setItem('config-centre.token', 'revoked-token')");
    await page.reload();
    await page.getByText('Your token was refused; sign in again.').waitFor();
    await page.getByLabel('API token').waitFor();
  });

  it('hides the audit log from a reader and loads nothing from other origins', async () => {
    await page.getByLabel('API token').fill(TOKENS.reader);
    await page.keyboard.press('Enter');
    // Signing in again keeps the screen the admin was on.
    await field('thresholds.high').waitFor();
    await page.getByText('Read-only: your token lacks config:write.').waitFor();
    expect(await field('thresholds.high').isDisabled()).toBe(true);
    expect(await page.getByRole('link', { name: 'Audit' }).count()).toBe(0);

    const foreign = requested.filter((url) => !url.startsWith(origin));
    expect(foreign).toEqual([]);
  });
});
