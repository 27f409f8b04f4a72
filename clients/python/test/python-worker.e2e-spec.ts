import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  canonicalJson,
  checkServiceSchema,
  configTopic,
  healthTopic,
  type JsonSchema,
  schemaHashOf,
  schemaTopic,
  validateConfig,
} from '@app/contracts';
import { LastKnownGoodStore } from '@app/config-client';
import { generateBoxKeyPair, generateSigningKeyPair } from '@app/crypto';
import {
  MqttProbe,
  signEnvelope,
  startAedes,
  type TestBroker,
  unreachableBrokerUrl,
  WorkerProcess,
  waitForInstance,
} from '@app/testing';
import { startManager, type TestManager } from '../../../apps/config-manager/test/support/test-app';

// Debian's interpreter, where apt installs python3-nacl and python3-paho-mqtt (not a pyenv one).
const PYTHON = '/usr/bin/python3';
const CLIENT_DIR = resolve(__dirname, '..');
const REPO_ROOT = resolve(CLIENT_DIR, '..', '..');
const SERVICE = 'py-billing';
const INSTANCE = 'py-billing-1';
const SECRET = 'tok-live-7c1d-never-in-clear';

const schema: JsonSchema = {
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
  },
};

const digest = (value: string) =>
  `sha256:${createHash('sha256').update(value).digest('hex').slice(0, 12)}`;

/** The signed payload of an envelope, as any reader sees it once it verified. */
const payloadOf = (envelope: Buffer): { version?: number } =>
  JSON.parse(
    Buffer.from(
      (JSON.parse(envelope.toString()) as { payload: string }).payload,
      'base64',
    ).toString(),
  ) as { version?: number };

/** Runs a program to completion with `input` on stdin; its exit code and output. */
function run(
  args: string[],
  input = '',
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, args, { cwd: REPO_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** What Node's contracts say about one generated case (the differential check's expectation). */
function nodeVerdicts(line: string): object {
  const [schemaText, valueTexts] = JSON.parse(line) as [string, string[]];
  const document: unknown = JSON.parse(schemaText);
  try {
    const hashes = {
      hash: schemaHashOf(document as JsonSchema),
      canonical: canonicalJson(document),
    };
    const check = checkServiceSchema('fuzz-svc', '', document);
    if (!check.ok) return { ...hashes, check: check.problems.map((p) => p.path) };
    const results = valueTexts.map((text) => {
      try {
        const result = validateConfig(check.definition, JSON.parse(text));
        return result.ok
          ? { ok: true, config: JSON.stringify(result.config) }
          : { ok: false, issues: result.issues };
      } catch (error) {
        return { throw: error instanceof Error ? error.name : 'unknown' };
      }
    });
    return { ...hashes, check: 'ok', results };
  } catch (error) {
    return { throw: error instanceof Error ? error.name : 'unknown' };
  }
}

describe('the Python reference client (clients/python)', () => {
  it('passes its unittest suite, the shared test vectors included', () => {
    const result = spawnSync(PYTHON, ['-m', 'unittest', 'discover', '-s', 'tests'], {
      cwd: CLIENT_DIR,
      encoding: 'utf8',
      timeout: 180_000,
    });
    const output = `${result.stdout}\n${result.stderr}`;
    if (result.status !== 0) throw new Error(`python3 -m unittest failed:\n${output}`);
    expect(output).toMatch(/\nOK\b/);
    // The last-known-good vectors come with the Node SDK's format 3 (lkg-files.json): until they
    // are generated, that one test skips; nothing else ever does.
    const lkgVectors = existsSync(
      join(REPO_ROOT, 'libs', 'contracts', 'test-vectors', 'lkg-files.json'),
    );
    expect(output).toMatch(lkgVectors ? /\nOK\s*$/ : /\nOK \(skipped=1\)\s*$/);
  }, 200_000);

  it('validates exactly as the Node SDK does on generated schemas and documents', async () => {
    const generated = await run([
      join(CLIENT_DIR, 'tests', 'differential.py'),
      'generate',
      '7',
      '300',
    ]);
    expect(generated).toMatchObject({ code: 0, stderr: '' });
    const cases = generated.stdout.split('\n').filter((line) => line !== '');
    expect(cases).toHaveLength(300);
    const expected = cases
      .map((line) =>
        JSON.stringify({ case: JSON.parse(line) as unknown, expected: nodeVerdicts(line) }),
      )
      .join('\n');
    const compared = await run([join(CLIENT_DIR, 'tests', 'differential.py'), 'compare'], expected);
    const summary = JSON.parse(compared.stdout) as { compared: number; mismatches: unknown[] };
    expect(summary.mismatches).toEqual([]);
    expect(summary.compared).toBeGreaterThan(500);
    expect(compared.code).toBe(0);
  }, 60_000);

  describe('as a worker of a real config-manager', () => {
    let sut: TestManager;
    let dataDir: string;
    let worker: WorkerProcess | undefined;
    let probe: MqttProbe | undefined;
    let replayBroker: TestBroker | undefined;

    beforeEach(async () => {
      sut = await startManager({ store: 'sqlite' });
      dataDir = mkdtempSync(join(tmpdir(), 'py-worker-'));
    });

    afterEach(async () => {
      await worker?.kill('SIGTERM');
      worker = undefined;
      await probe?.close();
      probe = undefined;
      await replayBroker?.stop();
      replayBroker = undefined;
      await sut.close();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('applies REST changes and a secret, refuses a forged envelope, and refuses a replay after a restart', async () => {
      const recipient = generateBoxKeyPair();
      await sut.api
        .registerService(SERVICE, {
          description: 'Invoices, in Python',
          schema,
          recipientKey: recipient.publicKey.toString('base64'),
        })
        .expect(201);
      const [signing] = (await sut.api.keys().expect(200)).body.signing;
      const brokerUrl = await sut.api.brokerUrl();
      probe = await MqttProbe.connect(brokerUrl, [schemaTopic(SERVICE), configTopic(SERVICE)]);
      const env = {
        SERVICE_NAME: SERVICE,
        MQTT_URL: brokerUrl,
        INSTANCE_ID: INSTANCE,
        CONFIG_TRUSTED_KEYS: `${signing.kid}:${signing.publicKey}`,
        CONFIG_SECRET_KEY: recipient.secretKey.toString('base64'),
        LKG_HMAC_KEY: randomBytes(32).toString('base64'),
        DATA_DIR: dataDir,
        RUN_EVERY_MS: '50',
      };
      const outputs: string[][] = [];
      const startWorker = (overrides: Record<string, string> = {}) => {
        const started = WorkerProcess.command(PYTHON, [join(CLIENT_DIR, 'example_worker.py')], {
          ...env,
          ...overrides,
        });
        outputs.push(started.lines);
        return started;
      };

      worker = startWorker();
      await worker.waitForLine(
        /^run on version 1: \{"batch_size":50,"gateway":\{"url":"https:\/\/pay.example"\}\} \(gateway.token=unset\)$/,
      );
      await sut.api.patchConfig(SERVICE, { batch_size: 80 }).expect(200);
      await worker.waitForLine(/^run on version 2: \{"batch_size":80,/);
      await sut.api.putSecret(SERVICE, 'gateway.token', SECRET).expect(204);
      await worker.waitForLine(
        new RegExp(
          `^run on version 3: \\{"batch_size":80,.*\\} \\(gateway.token=${digest(SECRET)}\\)$`,
        ),
      );
      await waitForInstance(sut, (i) => i.appliedVersion === 3 && i.status === 'online', {
        service: SERVICE,
        instanceId: INSTANCE,
      });

      // A forged version 9: signed with a key of the attacker's under the manager's key id.
      const forged = signEnvelope(
        {
          service: SERVICE,
          version: 9,
          issuedAt: new Date().toISOString(),
          schemaHash: schemaHashOf(schema),
          config: { batch_size: 499 },
        },
        { kid: signing.kid, secretKey: generateSigningKeyPair().secretKey },
      );
      await probe.publish(configTopic(SERVICE), forged, false);
      await waitForInstance(
        sut,
        (i) => i.lastRejection?.reason === 'signature' && i.appliedVersion === 3,
        { service: SERVICE, instanceId: INSTANCE },
      );
      const [instance] = (await sut.api.instances(SERVICE).expect(200)).body;
      expect(instance).toMatchObject({ status: 'online', appliedVersion: 3, schemaDrift: false });
      expect(instance.lastRejection).not.toHaveProperty('version');
      const afterForgery = worker.lines.length;
      const running = worker;
      await running.waitForLine(/^run on version 3: \{"batch_size":80,/);
      expect(running.lines.slice(afterForgery).some((l) => l.startsWith('run on version 9'))).toBe(
        false,
      );

      await worker.kill('SIGTERM');
      worker = undefined;
      await waitForInstance(sut, (i) => i.status === 'offline', {
        service: SERVICE,
        instanceId: INSTANCE,
      });

      // Its last-known-good file is the Node SDK's format 3 (docs/recovery.md), bound to this
      // instance: the Node store reads it, and the Python client reads the file the Node store writes (the restart below runs on it).
      const lkgPath = join(dataDir, `${SERVICE}.${INSTANCE}.lkg.json`);
      expect(JSON.parse(readFileSync(lkgPath, 'utf8'))).toMatchObject({
        format: 3,
        service: SERVICE,
        instanceId: INSTANCE,
      });
      const nodeStore = new LastKnownGoodStore(
        lkgPath,
        Buffer.from(env.LKG_HMAC_KEY, 'base64'),
        INSTANCE,
      );
      const saved = await nodeStore.load(SERVICE);
      // Any copy of version 3 the manager published (each reconnect re-signs it: an attestation
      // the worker saves), and the schema it was validated with.
      const copiesOf = (version: number) =>
        (probe?.messages ?? []).filter(
          (m) => m.topic === configTopic(SERVICE) && payloadOf(m.payload).version === version,
        );
      const copiesOf3 = copiesOf(3);
      const schemaEnvelope = probe.messages.find((m) => m.topic === schemaTopic(SERVICE))?.payload;
      expect(saved).toMatchObject({ kind: 'ok', schemaEnvelopeBytes: schemaEnvelope });
      const savedEnvelope = saved.kind === 'ok' ? saved.envelopeBytes : Buffer.alloc(0);
      expect(copiesOf3.some((m) => m.payload.equals(savedEnvelope))).toBe(true);
      await nodeStore.save(copiesOf3[0].payload, SERVICE, schemaEnvelope);

      // Restarted with the broker unreachable: it runs on version 3 from its last-known-good file.
      worker = startWorker({
        MQTT_URL: await unreachableBrokerUrl(),
        INITIAL_CONFIG_TIMEOUT_MS: '500',
      });
      await worker.waitForLine(
        /Running degraded on the last-known-good py-billing config version 3/,
      );
      await worker.waitForLine(
        new RegExp(
          `^run on version 3: \\{"batch_size":80,.*\\(gateway.token=${digest(SECRET)}\\)$`,
        ),
      );
      await worker.kill('SIGTERM');

      // Restarted on a broker replaying the genuine, older version 2: refused as stale.
      const version2 = copiesOf(2)[0]?.payload;
      expect(version2).toBeDefined();
      replayBroker = await startAedes();
      const replayer = await MqttProbe.connect(replayBroker.url, [healthTopic(SERVICE, INSTANCE)]);
      try {
        await replayer.publish(configTopic(SERVICE), version2 ?? Buffer.alloc(0));
        worker = startWorker({ MQTT_URL: replayBroker.url });
        await worker.waitForLine(
          /Rejected a config message on system\/config\/py-billing \(stale, version 2\)/,
        );
        await worker.waitForLine(/^run on version 3: \{"batch_size":80,/);
        const replayed = await replayer.waitFor((m) => {
          const status = JSON.parse(m.payload.toString()) as {
            lastRejection?: { reason: string; version?: number };
          };
          return status.lastRejection?.reason === 'stale';
        }, 'a stale rejection in the health');
        expect(JSON.parse(replayed.payload.toString())).toMatchObject({
          appliedVersion: 3,
          source: 'lkg',
          status: 'degraded',
          lastRejection: { reason: 'stale', version: 2 },
        });
      } finally {
        await replayer.close();
      }

      // The secret crossed the bus sealed: not on the bus, in any worker's output, nor on disk.
      expect(probe.rawBytes().toString('latin1')).not.toContain(SECRET);
      expect(outputs.flat().join('\n')).not.toContain(SECRET);
      for (const file of readdirSync(dataDir)) {
        expect(readFileSync(join(dataDir, file), 'utf8')).not.toContain(SECRET);
      }
    }, 60_000);
  });
});
