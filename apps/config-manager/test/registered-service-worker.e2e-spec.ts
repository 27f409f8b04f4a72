import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JsonSchema } from '@app/contracts';
import { generateBoxKeyPair } from '@app/crypto';
import { type StoreKind, until, WorkerProcess, waitForInstance } from '@app/testing';
import { startManager, type TestManager } from './support/test-app';

const SERVICE = 'billing-worker';
const INSTANCE = 'billing-1';
const SECRET = 'tok-live-3f9a-never-in-clear';

const schema = (extra: Record<string, JsonSchema> = {}): JsonSchema => ({
  type: 'object',
  additionalProperties: false,
  properties: {
    batch_size: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
    gateway: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        url: { type: 'string', maxLength: 200, default: 'https://pay.example' },
        token: { type: 'string', writeOnly: true, maxLength: 200 },
      },
    },
    ...extra,
  },
});

const digest = (value: string) =>
  `sha256:${createHash('sha256').update(value).digest('hex').slice(0, 12)}`;

/**
 * The whole path for a service the manager was never compiled with: registered over REST, then
 * changed, and applied by a Node worker outside dedup-worker (examples/node-worker) that knows no
 * schema of its own and validates with the manager's signed schema.
 */
describe.each<StoreKind>(['sqlite', 'postgres'])(
  'a service registered over REST and its Node worker on %s',
  (store) => {
    let sut: TestManager;
    let worker: WorkerProcess | undefined;
    let dataDir: string;

    beforeEach(async () => {
      sut = await startManager({ store });
      dataDir = mkdtempSync(join(tmpdir(), 'billing-worker-'));
    });

    afterEach(async () => {
      await worker?.kill('SIGTERM');
      worker = undefined;
      await sut.close();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('applies every PATCH, a secret and a schema migration, and reports them', async () => {
      const recipient = generateBoxKeyPair();
      await sut.api
        .registerService(SERVICE, {
          description: 'Invoices',
          schema: schema(),
          recipientKey: recipient.publicKey.toString('base64'),
        })
        .expect(201);
      worker = WorkerProcess.script('examples/node-worker/worker.ts', {
        ...(await sut.api.workerEnv({
          service: SERVICE,
          instanceId: INSTANCE,
          dataDir,
          secretKey: recipient.secretKey,
        })),
        RUN_EVERY_MS: '50',
      });
      await worker.waitForLine(
        /run on version 1: \{"batch_size":50,"gateway":\{"url":"https:\/\/pay.example"\}\} \(gateway.token=unset\)/,
      );

      await sut.api.patchConfig(SERVICE, { batch_size: 80 }).expect(200);
      await worker.waitForLine(/run on version 2: \{"batch_size":80,/);
      await sut.api.patchConfig(SERVICE, { gateway: { url: 'https://pay2.example' } }).expect(200);
      await worker.waitForLine(/run on version 3: .*"url":"https:\/\/pay2.example"/);
      await sut.api.putSecret(SERVICE, 'gateway.token', SECRET).expect(204);
      await worker.waitForLine(
        new RegExp(`run on version 4: .* \\(gateway.token=${digest(SECRET)}\\)`),
      );

      // A schema change reaches the worker as a signed schema and a migration version under it.
      await sut.api
        .registerService(SERVICE, {
          schema: schema({ retries: { type: 'integer', minimum: 0, default: 3 } }),
        })
        .expect(200);
      await worker.waitForLine(/run on version 5: \{"batch_size":80,.*"retries":3\}/);

      await waitForInstance(sut, (i) => i.appliedVersion === 5 && i.status === 'online', {
        service: SERVICE,
        instanceId: INSTANCE,
      });
      const [instance] = (await sut.api.instances(SERVICE).expect(200)).body;
      expect(instance).toMatchObject({ schemaDrift: false, lastRejection: null });

      // The secret crossed the bus sealed: not in the worker's output nor its last-known-good file.
      expect(worker.lines.join('\n')).not.toContain(SECRET);
      const files = readdirSync(dataDir, { recursive: true }).map(String);
      for (const file of files.filter((f) => f.endsWith('.json'))) {
        expect(readFileSync(join(dataDir, file), 'utf8')).not.toContain(SECRET);
      }
    }, 30000);

    it('keeps running on its last version when the service is archived, and follows it again once restored', async () => {
      await sut.api.registerService(SERVICE, { schema: schema() }).expect(201);
      await sut.api.patchConfig(SERVICE, { batch_size: 90 }).expect(200);
      worker = WorkerProcess.script('examples/node-worker/worker.ts', {
        ...(await sut.api.workerEnv({ service: SERVICE, instanceId: INSTANCE, dataDir })),
        RUN_EVERY_MS: '50',
      });
      await worker.waitForLine(/run on version 2: \{"batch_size":90,/);

      await sut.api.archiveService(SERVICE).expect(200);
      await worker.waitForLine(/archived/i);
      const afterArchive = worker.lines.length;
      const running = worker;
      await until(
        'a run on version 2 after the archive',
        () => running.lines.slice(afterArchive).find((l) => l.startsWith('run on version 2:')),
        { timeoutMs: 5000 },
      );

      await sut.api.registerService(SERVICE, { schema: schema() }).expect(200);
      await sut.api.patchConfig(SERVICE, { batch_size: 91 }).expect(200);
      await worker.waitForLine(/run on version 3: \{"batch_size":91,/);
    }, 30000);
  },
);
