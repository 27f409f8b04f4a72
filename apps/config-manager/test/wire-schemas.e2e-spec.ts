import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import { INSTANCE_ID_PATTERN, SERVICE_NAME_PATTERN } from '@app/contracts';
import { generateBoxKeyPair } from '@app/crypto';
import {
  BILLING_WORKER,
  billingWorkerSchema,
  MqttProbe,
  type ProbeMessage,
  WorkerProcess,
  waitForInstance,
} from '@app/testing';
import {
  buildWireSchemas,
  WIRE_SCHEMAS_DIR,
} from '../../../libs/contracts/wire-schemas/wire-schemas';
import { startManager, type TestManager } from './support/test-app';

const INSTANCE = 'billing-wire-1';
const generated = buildWireSchemas();

function validatorOf(file: string): ValidateFunction {
  const ajv = new Ajv({ allErrors: true, strict: false });
  ajv.addFormat('date-time', (value: string) => {
    return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value);
  });
  return ajv.compile(JSON.parse(generated[file]) as object);
}

function expectValid(validate: ValidateFunction, value: unknown, what: string): void {
  const ok = validate(value);
  if (!ok) throw new Error(`${what} does not match its schema: ${JSON.stringify(validate.errors)}`);
}

const json = (message: ProbeMessage): Record<string, unknown> =>
  JSON.parse(message.payload.toString('utf8')) as Record<string, unknown>;

const payloadOf = (envelope: Record<string, unknown>): Record<string, unknown> =>
  JSON.parse(Buffer.from(String(envelope.payload), 'base64').toString('utf8')) as Record<
    string,
    unknown
  >;

describe('the wire messages documented in docs/schemas/', () => {
  it('are the schemas the contract types generate (run npm run wire-schemas after changing them)', () => {
    for (const [file, text] of Object.entries(generated)) {
      const checkedIn = readFileSync(join(WIRE_SCHEMAS_DIR, file), 'utf8');
      expect({ file, text: checkedIn }).toEqual({ file, text: `${text}\n` });
    }
  });

  it('name the topic segment patterns the code enforces', () => {
    const status = JSON.parse(generated['instance-status.schema.json']) as {
      properties: Record<string, { pattern?: string }>;
    };
    expect(status.properties.service.pattern).toBe(SERVICE_NAME_PATTERN.source);
    expect(status.properties.instanceId.pattern).toBe(INSTANCE_ID_PATTERN.source);
    for (const file of ['config-payload', 'schema-payload', 'archived-payload']) {
      const schema = JSON.parse(generated[`${file}.schema.json`]) as {
        properties: Record<string, { pattern?: string }>;
      };
      expect(schema.properties.service.pattern).toBe(SERVICE_NAME_PATTERN.source);
    }
  });

  describe('describe what a manager and a worker really send', () => {
    let sut: TestManager;
    let probe: MqttProbe;
    let worker: WorkerProcess | undefined;
    let dataDir: string;

    beforeEach(async () => {
      sut = await startManager({ store: 'sqlite' });
      probe = await MqttProbe.connect(await sut.api.brokerUrl(), ['system/#']);
      dataDir = mkdtempSync(join(tmpdir(), 'wire-schemas-'));
    });

    afterEach(async () => {
      await worker?.kill('SIGTERM');
      worker = undefined;
      await probe.close();
      await sut.close();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('envelopes, payloads, schemas, tombstones, instance status, its last will and the manager status', async () => {
      const recipient = generateBoxKeyPair();
      await sut.api
        .registerService(BILLING_WORKER, {
          description: 'Invoices',
          schema: billingWorkerSchema(),
          recipientKey: recipient.publicKey.toString('base64'),
        })
        .expect(201);
      worker = WorkerProcess.script('examples/node-worker/worker.ts', {
        ...(await sut.api.workerEnv({
          service: BILLING_WORKER,
          instanceId: INSTANCE,
          dataDir,
          secretKey: recipient.secretKey,
        })),
        RUN_EVERY_MS: '50',
        INSTANCE_LABELS: 'region=eu-west,tier=canary',
      });
      await sut.api.putSecret(BILLING_WORKER, 'gateway.token', 'tok-wire-schemas').expect(204);
      await waitForInstance(sut, (i) => i.appliedVersion === 2 && i.lastRunVersion === 2, {
        service: BILLING_WORKER,
        instanceId: INSTANCE,
      });

      const configTopic = `system/config/${BILLING_WORKER}`;
      const configMessage = await probe.waitFor(
        (m) => m.topic === configTopic && payloadOf(json(m)).version === 2,
        'the config envelope of version 2',
      );
      const envelope = json(configMessage);
      expectValid(validatorOf('signed-envelope.schema.json'), envelope, 'config envelope');
      const payload = payloadOf(envelope);
      expect(Object.keys(payload.secrets as object)).toEqual(['gateway.token']);
      expectValid(validatorOf('config-payload.schema.json'), payload, 'config payload');

      const schemaMessage = await probe.waitFor(
        (m) => m.topic === `system/schema/${BILLING_WORKER}`,
        'the schema envelope',
      );
      expectValid(
        validatorOf('signed-envelope.schema.json'),
        json(schemaMessage),
        'schema envelope',
      );
      expectValid(
        validatorOf('schema-payload.schema.json'),
        payloadOf(json(schemaMessage)),
        'schema payload',
      );

      const healthTopic = `system/health/${BILLING_WORKER}/${INSTANCE}`;
      const health = await probe.waitFor(
        (m) =>
          m.topic === healthTopic &&
          json(m).lastRunVersion === 2 &&
          (json(m).lastRun as { version?: number } | undefined)?.version === 2,
        'the instance status after a finished run on version 2',
      );
      const status = validatorOf('instance-status.schema.json');
      expectValid(status, json(health), 'instance status');
      expect(json(health)).toMatchObject({
        labels: { region: 'eu-west', tier: 'canary' },
        runs: { version: 2, failed: 0 },
        lastRun: { version: 2, ok: true },
      });

      const manager = await probe.waitFor(
        (m) => m.topic === 'system/health/config-manager',
        'the manager status',
      );
      expectValid(validatorOf('manager-status.schema.json'), json(manager), 'manager status');

      // The last will the broker publishes for a killed worker is an instance status too.
      await worker.kill('SIGKILL');
      worker = undefined;
      const will = await probe.waitFor(
        (m) => m.topic === healthTopic && json(m).status === 'offline',
        'the last will',
      );
      expectValid(status, json(will), 'last will');
      // The broker fixed the will at CONNECT, before any config: the manager keeps what it saw.
      expect(json(will)).toMatchObject({ status: 'offline', appliedVersion: 0 });
      await waitForInstance(sut, (i) => i.status === 'offline' && i.appliedVersion === 2, {
        service: BILLING_WORKER,
        instanceId: INSTANCE,
      });

      await sut.api.archiveService(BILLING_WORKER).expect(200);
      const tombstone = await probe.waitFor(
        (m) => m.topic === configTopic && payloadOf(json(m)).archived === true,
        'the archive tombstone',
      );
      expectValid(validatorOf('signed-envelope.schema.json'), json(tombstone), 'tombstone');
      expectValid(
        validatorOf('archived-payload.schema.json'),
        payloadOf(json(tombstone)),
        'tombstone payload',
      );
    }, 30000);
  });
});
