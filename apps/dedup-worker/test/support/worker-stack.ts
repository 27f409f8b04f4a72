import { randomBytes } from 'node:crypto';
import { formatKeyList, generateBoxKeyPair } from '@app/crypto';
import {
  bearer,
  startManager,
  TestManager,
  TOKENS,
} from '../../../config-manager/test/support/test-app';

const SERVICE = 'dedup-worker';
const admin = bearer(TOKENS.admin);

/** An instance as the manager's instance view shows it. */
export interface InstanceView {
  instanceId: string;
  status: string;
  appliedVersion: number | null;
}

/** A config-manager (SQLite, embedded broker) that seals dedup-worker secrets to a known key. */
export interface WorkerStack {
  manager: TestManager;
  /** Environment for a worker process using `dataDir`, trusting this manager's signing key. */
  workerEnv(dataDir: string, instanceId: string): Record<string, string>;
}

/** Starts the manager side of a worker end-to-end test; `env` adds to the manager's environment. */
export async function startWorkerStack(env: Record<string, string> = {}): Promise<WorkerStack> {
  const recipient = generateBoxKeyPair();
  const manager = await startManager({
    store: 'sqlite',
    env: {
      SERVICE_RECIPIENT_KEYS: formatKeyList([{ id: SERVICE, key: recipient.publicKey }]),
      ...env,
    },
  });
  const keys = await manager.http().get('/api/keys').expect(200);
  const ready = await manager.http().get('/health/ready').expect(200);
  const signing = keys.body.signing[0] as { kid: string; publicKey: string };
  const hmacKey = randomBytes(32).toString('base64');
  return {
    manager,
    workerEnv: (dataDir, instanceId) => ({
      MQTT_URL: ready.body.checks.broker.url as string,
      INSTANCE_ID: instanceId,
      CONFIG_TRUSTED_KEYS: `${signing.kid}:${signing.publicKey}`,
      CONFIG_SECRET_KEY: recipient.secretKey.toString('base64'),
      LKG_HMAC_KEY: hmacKey,
      DATA_DIR: dataDir,
    }),
  };
}

/**
 * Polls the manager's instance view until `check` holds for `instanceId` (or, without one, for
 * any instance); returns how long it took, or throws with the last state seen.
 */
export async function waitForInstance(
  manager: TestManager,
  check: (instance: InstanceView) => boolean,
  { instanceId, timeoutMs = 5000 }: { instanceId?: string; timeoutMs?: number } = {},
): Promise<number> {
  const started = Date.now();
  for (;;) {
    const res = await manager.http().get(`/api/services/${SERVICE}/instances`).set(admin);
    const instances = (res.body as InstanceView[]).filter(
      (i) => !instanceId || i.instanceId === instanceId,
    );
    if (instances.some(check)) return Date.now() - started;
    if (Date.now() - started > timeoutMs) {
      throw new Error(
        `instance view did not reach the expected state: ${JSON.stringify(instances)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
