import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { JsonSchema } from '@app/contracts';
import {
  TOKENS,
  billingWorkerSchema,
  browserAvailable,
  buildAdminUi,
  launchChromium,
  SCREENSHOTS_DIR,
} from '@app/testing';
import { startManager, type TestManager } from './support/test-app';

const SERVICE = 'billing-worker';
const SCHEMA_REASON = 'at most 60 invoices a run';

/** The schema registered through the page: titles for the form, a nested group, a secret. */
const billingSchema = (batchSize: Partial<JsonSchema> = {}): JsonSchema =>
  billingWorkerSchema({}, batchSize);

const pretty = (value: unknown) => JSON.stringify(value, null, 2);

// One browser session registers a service through the admin page against a real manager of its
// own (SQLite, embedded broker, own data dir) and follows it to its archive; each test continues
// where the previous one stopped.
(browserAvailable() ? describe : describe.skip)('registering services on the admin page', () => {
  jest.setTimeout(60_000);

  let uiDir: string;
  let manager: TestManager;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let origin: string;
  const writes: string[] = [];

  beforeAll(async () => {
    uiDir = buildAdminUi();
    manager = await startManager({ store: 'sqlite', env: { ADMIN_UI_DIR: uiDir } });
    origin = (await manager.app.getUrl()).replace('[::1]', '127.0.0.1');
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('request', (request) => {
      if (request.method() !== 'GET') writes.push(`${request.method()} ${request.url()}`);
    });
    mkdirSync(SCREENSHOTS_DIR, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await manager?.close();
    rmSync(uiDir, { recursive: true, force: true });
  });

  const shot = (name: string) =>
    page.screenshot({ path: join(SCREENSHOTS_DIR, `${name}.png`), fullPage: true });
  const field = (path: string) => page.locator(`#field-${path.replaceAll('.', '--')}`);
  const schemaInput = () => page.getByLabel('Schema (JSON Schema, draft 2020-12)');
  const schemaProblems = () => page.locator('#schema-problems');
  const preview = () => page.getByRole('region', { name: 'Preview: the config form' });
  const registered = async () =>
    (await manager.api.services().expect(200)).body.find((s) => s.service === SERVICE);

  it('lists each service with its origin and schema version', async () => {
    await page.goto(origin);
    await page.getByLabel('API token').fill(TOKENS.admin);
    await page.keyboard.press('Enter');
    const row = page.getByTestId('service-dedup-worker');
    await row.getByText('code', { exact: true }).waitFor();
    expect(await row.getByTestId('schema-version').textContent()).toBe('v1');
  });

  it('shows a JSON mistake at its line and column, and a schema problem at its path', async () => {
    await page.getByRole('link', { name: 'Register service' }).click();
    await page.getByRole('heading', { name: 'Register a service' }).waitFor();
    await page.getByLabel('Service name').fill(SERVICE);
    await page.getByLabel('Description').fill('Invoices, once a night');

    await schemaInput().fill('{\n  "type": "object",\n}');
    await page
      .getByText(
        "JSON error at line 3, column 1: expected a property name in double quotes, found '}'",
      )
      .waitFor();

    const withFormat = billingSchema();
    const properties = withFormat.properties as Record<string, JsonSchema>;
    await schemaInput().fill(
      pretty({
        ...withFormat,
        properties: { ...properties, x: { type: 'string', format: 'email' } },
      }),
    );
    await schemaProblems()
      .getByText('schema.properties.x.format uses the unsupported keyword "format"')
      .waitFor();
    expect(await page.getByRole('button', { name: 'Register service' }).isDisabled()).toBe(true);
    await shot('register-schema-problem');
    expect(writes).toEqual([]);
  });

  it("shows the manager's refusal of an uploaded schema at the path it names", async () => {
    // Defaults that break the schema's own rule: only the manager (Ajv) finds that.
    await page.getByLabel('Schema file').setInputFiles({
      name: 'bad-defaults.json',
      mimeType: 'application/json',
      buffer: Buffer.from(pretty(billingSchema({ default: 0 }))),
    });
    await page.getByText(/^Loaded bad-defaults\.json/).waitFor();
    await page.getByRole('button', { name: 'Register service' }).click();
    await schemaProblems().getByText('The manager refused the schema').waitFor();
    await schemaProblems().getByText('default.batch_size').waitFor();
    expect(await registered()).toBeUndefined();
  });

  it('previews the form the schema will produce, then registers it', async () => {
    await schemaInput().fill(pretty(billingSchema()));
    await preview().getByRole('heading', { name: 'Spending limits' }).waitFor();
    // A field's label is its title (else its key) and its path, as the page shows them.
    expect(await preview().getByLabel('Batch size batch_size', { exact: true }).inputValue()).toBe(
      '50',
    );
    expect(await preview().getByLabel('Hard limit limits.hard', { exact: true }).inputValue()).toBe(
      '200',
    );
    expect(
      await preview()
        .getByLabel('Currency currency', { exact: true })
        .locator('option:checked')
        .textContent(),
    ).toBe('EUR');
    expect(await preview().getByText('Secrets (gateway.token)').count()).toBe(1);
    // Trying a value in the preview is checked as in the editor, and sends nothing.
    await preview().getByLabel('Batch size batch_size', { exact: true }).fill('0');
    await preview().getByText('must be at least 1').waitFor();
    await shot('register-preview');

    await page.getByRole('button', { name: 'Register service' }).click();
    await page.getByRole('heading', { name: new RegExp(`^${SERVICE}`) }).waitFor();
    await page.getByTestId('service-origin').getByText('registered over the API').waitFor();
    expect(page.url()).toContain(`#/services/${SERVICE}/config`);
    expect(await registered()).toMatchObject({
      origin: 'api',
      schemaVersion: 1,
      version: 1,
      archivedAt: null,
      description: 'Invoices, once a night',
    });
  });

  it("edits the new service's config in the editor and saves a version", async () => {
    await page.getByLabel('Batch size batch_size', { exact: true }).fill('80');
    await page.getByLabel('Reason for the change').fill('bigger batches');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Saved as version 2.').waitFor();

    const { body } = await manager.api.config(SERVICE).expect(200);
    expect(body.version).toBe(2);
    expect(body.config.batch_size).toBe(80);
  });

  it('changes the schema: a 409 names what no longer fits, and the config to move to goes along', async () => {
    await page.getByRole('link', { name: 'Schema', exact: true }).click();
    await page.getByRole('link', { name: 'Edit schema' }).click();
    expect(await schemaInput().inputValue()).toContain('"maximum": 500');

    await schemaInput().fill(pretty(billingSchema({ maximum: 60 })));
    await page.getByLabel('Reason', { exact: true }).fill(SCHEMA_REASON);
    await page.getByRole('button', { name: 'Save schema', exact: true }).click();
    await page.getByText('The current config does not fit the new schema').waitFor();
    const problems = page.locator('#register-config-problems');
    await problems.getByText('batch_size', { exact: true }).waitFor();
    const configInput = page.getByLabel('Config to move to (JSON)');
    expect(JSON.parse(await configInput.inputValue())).toMatchObject({ batch_size: 80 });
    await shot('register-schema-conflict');
    expect((await manager.api.schemas(SERVICE).expect(200)).body).toHaveLength(1);

    const current = (await manager.api.config(SERVICE).expect(200)).body.config;
    await configInput.fill(pretty({ ...current, batch_size: 60 }));
    await page.getByRole('button', { name: 'Save schema and config' }).click();
    await page.getByText('Saved schema version 2, config version 3 (a migration).').waitFor();

    const { body } = await manager.api.config(SERVICE).expect(200);
    expect(body.version).toBe(3);
    expect(body.config.batch_size).toBe(60);
  });

  it('lists the schema versions and diffs any two', async () => {
    const newest = page.getByTestId('schema-version-2');
    await newest.getByText(SCHEMA_REASON).waitFor();
    await newest.getByText('current').waitFor();
    const hash = (await manager.api.schemas(SERVICE).expect(200)).body[0].schemaHash;
    await newest.getByText(hash.slice('sha256:'.length, 'sha256:'.length + 12)).waitFor();

    const diff = page.locator('table.diff');
    const row = diff.getByRole('row', { name: /properties\.batch_size\.maximum/ });
    await row.waitFor();
    expect(await row.locator('td.old').textContent()).toBe('500');
    expect(await row.locator('td.new').textContent()).toBe('60');
    await shot('schema-history');

    await page.getByLabel('compare from schema version 2').check();
    await page.getByLabel('compare to schema version 1').check();
    await page.getByRole('heading', { name: 'Schema differences v2 → v1' }).waitFor();
    expect(await row.locator('td.new').textContent()).toBe('500');
  });

  it('archives it after a confirmation; it is listed as archived and read-only', async () => {
    await page.getByRole('button', { name: 'Archive', exact: true }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Reason').fill('replaced by invoicing-worker');
    await dialog.getByRole('button', { name: `Archive ${SERVICE}` }).click();
    await page.getByText('register again to restore').first().waitFor();
    expect((await registered())?.archivedAt).not.toBeNull();

    await page.getByRole('link', { name: 'Config', exact: true }).click();
    await page
      .getByText('Archived — register again to restore. The config is read-only.')
      .waitFor();
    expect(await field('batch_size').isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Save', exact: true }).count()).toBe(0);

    await page.getByRole('link', { name: 'Services', exact: true }).first().click();
    const archived = page.getByRole('region', { name: 'Archived' });
    await archived.getByRole('link', { name: SERVICE }).waitFor();
    expect(await page.getByTestId(`service-${SERVICE}`).count()).toBe(0);
    await shot('services-archived');
  });

  it('restores it with its current schema', async () => {
    await page
      .getByRole('region', { name: 'Archived' })
      .getByRole('link', { name: SERVICE })
      .click();
    await page.getByRole('button', { name: 'Restore' }).click();
    await page.getByText(`${SERVICE} is restored and takes changes again.`).waitFor();
    expect(await registered()).toMatchObject({ archivedAt: null, schemaVersion: 2, version: 3 });
    // The editor takes changes again once the page has reloaded the service.
    await page.getByRole('button', { name: 'Save', exact: true }).waitFor();
    expect(await field('batch_size').isDisabled()).toBe(false);
  });

  it('offers neither registration nor archiving to a reader', async () => {
    await page.evaluate(`sessionStorage.setItem('config-centre.token', '${TOKENS.reader}')`);
    await page.reload();
    await page.getByText('Read-only: your token lacks config:write.').waitFor();
    expect(await page.getByRole('button', { name: 'Archive', exact: true }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Edit schema' }).count()).toBe(0);
    await page.getByRole('link', { name: 'Services', exact: true }).first().click();
    await page.getByTestId(`service-${SERVICE}`).waitFor();
    expect(await page.getByRole('link', { name: 'Register service' }).count()).toBe(0);
  });
});
