import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { RolloutView } from '@app/contracts';
import {
  browserAvailable,
  buildAdminUi,
  launchChromium,
  SCREENSHOTS_DIR,
  startAedes,
  type TestBroker,
  TOKENS,
  until,
} from '@app/testing';
import { SimulatedFleet } from './support/simulated-fleet';
import { startManager, type TestManager } from './support/test-app';

const SERVICE = 'dedup-worker';
const CANARY = 'w-canary';
const OTHERS = ['w-2', 'w-3'];
const STAGE_REASON = 'stricter merges, canary first';

// One browser session stages a change on the admin page, rolls it out with the presets against
// a real manager (SQLite, embedded broker) and a simulated fleet of three instances whose health
// the test publishes (one labelled tier=canary), watches it live, pauses, resumes, aborts and
// promotes, and checks what a reader sees; each test continues where the previous one stopped.
(browserAvailable() ? describe : describe.skip)('rollouts on the admin page in Chromium', () => {
  jest.setTimeout(60_000);

  let uiDir: string;
  let broker: TestBroker;
  let manager: TestManager;
  let fleet: SimulatedFleet;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let origin: string;
  const posts: string[] = [];

  beforeAll(async () => {
    uiDir = buildAdminUi();
    broker = await startAedes();
    manager = await startManager({
      store: 'sqlite',
      env: { ADMIN_UI_DIR: uiDir, MQTT_URL: broker.url, ROLLOUT_TICK_MS: '50' },
    });
    fleet = await SimulatedFleet.connect(broker.url, SERVICE);
    await fleet.report(CANARY, { labels: { tier: 'canary', region: 'eu' } });
    for (const id of OTHERS) await fleet.report(id, { labels: { tier: 'main' } });
    await until(
      'three instances in the view',
      async () =>
        (await manager.api.instances(SERVICE).expect(200)).body.length === 3 ? true : undefined,
      { timeoutMs: 5000 },
    );
    origin = (await manager.app.getUrl()).replace('[::1]', '127.0.0.1');
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('request', (request) => {
      if (request.method() === 'POST') posts.push(new URL(request.url()).pathname);
    });
    mkdirSync(SCREENSHOTS_DIR, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await fleet?.close();
    await manager?.close();
    await broker?.stop();
    rmSync(uiDir, { recursive: true, force: true });
  });

  const shot = (name: string) =>
    page.screenshot({ path: join(SCREENSHOTS_DIR, `${name}.png`), fullPage: true });
  const tab = (name: string) => page.getByRole('link', { name, exact: true }).click();
  const current = async () => (await manager.api.config(SERVICE).expect(200)).body;
  const rollouts = async () => (await manager.api.rollouts(SERVICE).expect(200)).body;
  const latest = async (): Promise<RolloutView> => (await rollouts())[0];
  const state = () => page.getByTestId('rollout-state');
  const progress = () => page.getByTestId('rollout-progress');
  const instanceState = (id: string) => page.getByTestId(`rollout-instance-${id}`);
  const button = (name: string) => page.getByRole('button', { name, exact: true });
  const stepField = (step: number, label: string) =>
    page.getByTestId(`step-${step}`).getByLabel(label, { exact: true });
  const stage = async (high: number): Promise<number> =>
    (
      await manager.api
        .patchConfig(SERVICE, { thresholds: { high } }, { publish: 'staged' })
        .expect(200)
    ).body.version;

  it('stages a change from the editor without publishing it', async () => {
    await page.goto(origin);
    await page.getByLabel('API token').fill(TOKENS.admin);
    await page.keyboard.press('Enter');
    await page.getByRole('link', { name: SERVICE }).click();
    await page.locator('#field-thresholds--high').fill('0.8');
    await page.getByLabel('Reason for the change').fill(STAGE_REASON);
    await button("Stage (don't publish)").click();
    await page.getByText('Staged as version 2, not published: workers keep version 1.').waitFor();

    expect((await current()).version).toBe(1);
    expect((await current()).config.thresholds.high).toBe(0.75);
    const history = (await manager.api.versions(SERVICE).expect(200)).body;
    expect(history[0]).toMatchObject({ version: 2, state: 'staged', reason: STAGE_REASON });
    // The editor is back on the current version, with the field as it was.
    expect(await page.locator('#field-thresholds--high').inputValue()).toBe('0.75');
  });

  it('marks the staged version in the history and offers to roll it out', async () => {
    await tab('History');
    const row = page.getByTestId('version-2');
    await row.getByText('staged', { exact: true }).waitFor();
    expect(await row.getByRole('button', { name: /Roll back/ }).count()).toBe(0);
    await shot('history-staged');
    await row.getByRole('link', { name: 'Roll out v2' }).click();
    await page.getByRole('heading', { name: 'Roll out version 2' }).waitFor();
    await page.locator('table.diff').getByText('thresholds.high').waitFor();
  });

  it('starts from the one-canary preset and checks the steps before sending anything', async () => {
    expect(await page.getByLabel('One canary, then all').isChecked()).toBe(true);
    expect(await stepField(1, 'Instances').inputValue()).toBe('1');
    expect(await stepField(1, 'Bake: completed runs').inputValue()).toBe('2');
    await page.getByTestId('step-1').getByText('Reaches 1 of the 3 instances up now').waitFor();

    // The last step must reach everyone: said at the step list, before any request.
    await stepField(2, 'Who').selectOption('percent');
    await stepField(2, 'Percent').fill('50');
    await page.getByText('the last step must reach everyone (all instances, or 100 %)').waitFor();
    await stepField(1, 'Instances').fill('0');
    await page.getByText('a whole number from 1 to 1000000').waitFor();
    expect(await page.getByLabel('Custom').isChecked()).toBe(true);
    await button('Start the rollout of v2').click();
    expect(await page.evaluate('document.activeElement?.id')).toBe('rollout-strategy-steps');
    await shot('rollout-form-errors');
    expect(posts.filter((path) => path.endsWith('/rollouts'))).toEqual([]);
    expect(await rollouts()).toEqual([]);
  });

  it("shows the manager's refusal at the selector it names", async () => {
    await page.getByLabel('Canary label, then all').check();
    expect(await stepField(1, 'Labels (key=value, …)').inputValue()).toBe('tier=canary');
    await page.getByTestId('step-1').getByText('Reaches 1 of the 3 instances up now').waitFor();
    await stepField(1, 'Labels (key=value, …)').fill('tier=gold');
    await page
      .getByTestId('step-1')
      .getByText(/Matches none of the 3 instances up now/)
      .waitFor();
    await button('Start the rollout of v2').click();
    const error = page.locator('#rollout-strategy-steps-0-cohort-error');
    await error.getByText(/matches no instance of dedup-worker that is up/).waitFor();
    expect(await page.evaluate('document.activeElement?.id')).toBe(
      'rollout-strategy-steps-0-cohort',
    );
    expect(await rollouts()).toEqual([]);
  });

  it('starts the canary rollout and shows it live', async () => {
    await stepField(1, 'Labels (key=value, …)').fill('tier=canary');
    await shot('rollout-form');
    await button('Start the rollout of v2').click();
    await page.getByRole('heading', { name: /Rollout of v2/ }).waitFor();
    const started = await latest();
    expect(page.url()).toContain(`rollouts?id=${started.id}`);
    expect(started.strategy.steps).toEqual([
      { cohort: { selector: { tier: 'canary' } }, bake: { runs: 2 } },
      { cohort: { all: true } },
    ]);
    await progress().getByText('step 1 of 2').waitFor();
    await instanceState(CANARY).getByText('pending').waitFor();
    await page
      .getByTestId('rollout-step-2')
      .getByText(/The completion: v2 becomes the current version.* · not started/)
      .waitFor();

    await fleet.applied(CANARY, 2);
    await instanceState(CANARY)
      .getByText(/^(applied|baking)$/)
      .waitFor();
    await state().getByText('baking').waitFor();
    await shot('rollout-live');
  });

  it('refuses a plain save during the rollout and links to it', async () => {
    await tab('Config');
    await page.locator('#field-geo--max_distance_km').fill('12');
    await button('Save').click();
    const alert = page.getByRole('alert').filter({ hasText: 'Stage the change instead' });
    await alert.waitFor();
    expect((await current()).version).toBe(1);
    await alert.getByRole('link', { name: 'the rollout' }).click();
    await state().getByText('baking').waitFor();
  });

  it('pauses and resumes, each button enabled only where it applies', async () => {
    expect(await button('Resume').isDisabled()).toBe(true);
    await button('Pause').click();
    await state().getByText('paused').waitFor();
    expect(await button('Pause').isDisabled()).toBe(true);
    expect((await latest()).state).toBe('paused');
    await page
      .getByTestId('rollout-timeline')
      .getByText(/paused.*by alice/)
      .waitFor();
    // The canary completes its runs meanwhile: the manager sees them, the rollout stays paused.
    await fleet.ran(CANARY, 2, 2);
    await until(
      'the canary’s runs in the instance view',
      async () =>
        (await manager.api.instances(SERVICE).expect(200)).body.find((i) => i.instanceId === CANARY)
          ?.runs?.completed === 2
          ? true
          : undefined,
      { timeoutMs: 5000 },
    );
    expect(await latest()).toMatchObject({ state: 'paused', step: 1 });
    await shot('rollout-paused');

    await button('Resume').click();
    // The canary has baked its two runs: the last step, the completion, publishes v2 to all.
    await state().getByText('complete').waitFor();
    for (const action of ['Pause', 'Resume', 'Promote…', 'Abort…'])
      expect(await button(action).isDisabled()).toBe(true);
    await page.getByRole('heading', { name: /dedup-worker\s*v2/ }).waitFor();
    expect((await current()).version).toBe(2);
    await shot('rollout-complete');
  });

  it("shows each instance's labels and run outcomes", async () => {
    await tab('Instances');
    const canary = page.getByTestId(`instance-${CANARY}`);
    await canary.getByTestId('labels').getByText('tier=canary').waitFor();
    await canary.getByTestId('labels').getByText('region=eu').waitFor();
    expect(await canary.getByTestId('runs').textContent()).toMatch(
      /2 completed, 0 failed on v2.*last run ok on v2/,
    );
    await fleet.ran('w-2', 2, 3, 1);
    const other = page.getByTestId('instance-w-2');
    await other
      .getByTestId('runs')
      .getByText(/3 completed, 1 failed on v2/)
      .waitFor();
    await other.getByTestId('runs').getByText('failed', { exact: true }).waitFor();
    await shot('instances-runs');
  });

  it('aborts a rollout after a confirmation that Escape cancels', async () => {
    const version = await stage(0.85);
    await tab('History');
    await page.getByRole('link', { name: `Roll out v${version}` }).click();
    await page.getByLabel('10 / 50 / 100 %').check();
    expect(await stepField(3, 'Percent').inputValue()).toBe('100');
    await button(`Start the rollout of v${version}`).click();
    await progress().getByText('step 1 of 3').waitFor();

    await button('Abort…').click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText(`return to the content of version 2`).waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Abort…');
    expect(isActiveState((await latest()).state)).toBe(true);

    await button('Abort…').click();
    await page.getByRole('dialog').getByRole('button', { name: 'Abort the rollout' }).click();
    await state().getByText('aborted').waitFor();
    const aborted = await latest();
    expect(aborted.rollbackVersion).toBe(version + 1);
    await progress()
      .getByText(`went out again as version ${version + 1}`)
      .waitFor();
    expect((await current()).version).toBe(version + 1);
    expect((await current()).config.thresholds.high).toBe(0.8);
  });

  it('promotes a rollout to everyone after a confirmation', async () => {
    const version = await stage(0.9);
    await page.goto(`${origin}/#/services/${SERVICE}/start-rollout?version=${version}`);
    await button(`Start the rollout of v${version}`).click();
    await progress().getByText('step 1 of 2').waitFor();
    await button('Promote…').click();
    await page.getByRole('dialog').getByText('skips to the last step (step 2)').waitFor();
    await page.getByRole('dialog').getByRole('button', { name: 'Promote to everyone' }).click();
    await state().getByText('complete').waitFor();
    expect((await latest()).state).toBe('complete');
    expect((await current()).version).toBe(version);
    await page.getByRole('table').getByText('aborted').waitFor();
  });

  it('marks a staged version outdated once a newer one is published', async () => {
    const staged = await stage(0.74);
    const published = (
      await manager.api.patchConfig(SERVICE, { geo: { max_distance_km: 11 } }).expect(200)
    ).body.version;
    await page.goto(`${origin}/#/services/${SERVICE}/history`);
    const row = page.getByTestId(`version-${staged}`);
    await row.getByText(`Outdated: v${published} was published since.`).waitFor();
    expect(await row.getByRole('link', { name: /Roll out/ }).count()).toBe(0);

    // Asked anyway (an old link), the manager refuses it and the form says why.
    await page.goto(`${origin}/#/services/${SERVICE}/start-rollout?version=${staged}`);
    await button(`Start the rollout of v${staged}`).click();
    await page
      .locator('#rollout-form-error')
      .getByText(`is older than v${published}, published since it was staged`)
      .waitFor();
    expect(await page.evaluate('document.activeElement?.id')).toBe('rollout-form-error');
    expect((await latest()).version).not.toBe(staged);
  });

  it('fits a phone screen: the rollout form and the rollouts', async () => {
    const version = await stage(0.72);
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = () =>
      page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    await page.goto(`${origin}/#/services/${SERVICE}/start-rollout?version=${version}`);
    await page.getByLabel('10 / 50 / 100 %').check();
    await stepField(3, 'Percent').waitFor();
    expect(await overflow()).toBeLessThanOrEqual(0);
    await shot('phone-rollout-form');
    await tab('Rollouts');
    await page.getByRole('heading', { name: 'All rollouts' }).waitFor();
    expect(await overflow()).toBeLessThanOrEqual(0);
    await shot('phone-rollouts');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('shows a reader the rollouts without a single button', async () => {
    const version = await stage(0.7);
    await tab('Rollouts');
    await button('Sign out').click();
    await page.getByLabel('API token').fill(TOKENS.reader);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: /Rollout of v/ }).waitFor();
    await page.getByRole('heading', { name: 'All rollouts' }).waitFor();
    expect(await page.getByRole('row').count()).toBe(1 + 3);
    for (const action of ['Pause', 'Resume', 'Promote…', 'Abort…'])
      expect(await button(action).count()).toBe(0);

    await tab('History');
    await page.getByTestId(`version-${version}`).getByText('staged', { exact: true }).waitFor();
    expect(await page.getByRole('link', { name: /Roll out/ }).count()).toBe(0);
    await tab('Config');
    expect(await button("Stage (don't publish)").isDisabled()).toBe(true);
  });
});

function isActiveState(state: RolloutView['state']): boolean {
  return ['pending', 'deploying', 'baking', 'paused', 'rolling_back'].includes(state);
}
