import { randomBytes } from 'node:crypto';
import { DEDUP_WORKER_SERVICE, type InstanceView } from '@app/contracts';
import { formatKeyList, generateBoxKeyPair } from '@app/crypto';
import {
  type InProcessManager,
  type ManagerBoot,
  startInProcessManager,
  type StoreSettings,
} from '../manager/in-process-manager';
import { pause } from '../waiting/polling';

/** A config-manager (SQLite, embedded broker) that seals dedup-worker secrets to a known key. */
export interface WorkerStack<S extends StoreSettings = StoreSettings> {
  manager: InProcessManager<S>;
  /** Environment for a worker process using `dataDir`, trusting this manager's signing key. */
  workerEnv(dataDir: string, instanceId: string): Record<string, string>;
}

/** Starts the manager side of a worker end-to-end test; `env` adds to the manager's environment. */
export async function startWorkerStack<S extends StoreSettings>(
  boot: ManagerBoot<S>,
  env: Record<string, string> = {},
): Promise<WorkerStack<S>> {
  const recipient = generateBoxKeyPair();
  const manager = await startInProcessManager(boot, {
    store: 'sqlite',
    env: {
      SERVICE_RECIPIENT_KEYS: formatKeyList([
        { id: DEDUP_WORKER_SERVICE, key: recipient.publicKey },
      ]),
      ...env,
    },
  });
  const [signing] = (await manager.api.keys().expect(200)).body.signing;
  const mqttUrl = (await manager.api.ready().expect(200)).body.checks.broker.url;
  const hmacKey = randomBytes(32).toString('base64');
  return {
    manager,
    workerEnv: (dataDir, instanceId) => ({
      MQTT_URL: String(mqttUrl),
      INSTANCE_ID: instanceId,
      CONFIG_TRUSTED_KEYS: `${signing.kid}:${signing.publicKey}`,
      CONFIG_SECRET_KEY: recipient.secretKey.toString('base64'),
      LKG_HMAC_KEY: hmacKey,
      DATA_DIR: dataDir,
    }),
  };
}

/**
 * Polls the manager's instance view of a service (dedup-worker unless told otherwise) until
 * `check` holds for `instanceId` (or, without one, for any instance); returns how long it took,
 * or throws with the last state seen.
 */
export async function waitForInstance(
  manager: InProcessManager,
  check: (instance: InstanceView) => boolean,
  {
    instanceId,
    // A worker process starts from source (swc): several seconds on a loaded 2-core machine.
    timeoutMs = 15000,
    service = DEDUP_WORKER_SERVICE,
  }: { instanceId?: string; timeoutMs?: number; service?: string } = {},
): Promise<number> {
  const started = Date.now();
  for (;;) {
    const { body } = await manager.api.instances(service).expect(200);
    const instances = body.filter((i) => !instanceId || i.instanceId === instanceId);
    if (instances.some(check)) return Date.now() - started;
    if (Date.now() - started > timeoutMs) {
      throw new Error(
        `instance view did not reach the expected state: ${JSON.stringify(instances)}`,
      );
    }
    await pause(20);
  }
}
