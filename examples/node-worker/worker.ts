// A worker for any service registered on config-manager, in a dozen lines of the SDK: it names
// no schema, so every config is validated with the service's signed schema from
// system/schema/<service>. The environment is the SDK's (SERVICE_NAME, MQTT_URL,
// CONFIG_TRUSTED_KEYS, CONFIG_SECRET_KEY, INSTANCE_ID, INSTANCE_LABELS, LKG_HMAC_KEY, …; see
// libs/config-client/README.md). Each run reports how it ended (endRun), so a rollout can bake
// a new version on this worker. Run: SERVICE_NAME=billing-worker … npm run example:worker
import { createHash } from 'node:crypto';
import {
  ConfigClient,
  type ConfigClientLogger,
  configClientOptionsFromEnv,
} from '@app/config-client';

const RUN_EVERY_MS = Number(process.env.RUN_EVERY_MS ?? 1000);

const logger: ConfigClientLogger = {
  log: (message) => console.log(message),
  warn: (message) => console.warn(message),
  error: (message) => console.error(message),
};

/** Where the secrets of a config are: printed as a short digest, never as the value. */
function describe(config: unknown, secretPaths: readonly string[]): string {
  const secrets = secretPaths.map((path) => {
    const value = path
      .split('.')
      .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], config);
    return `${path}=${typeof value === 'string' && value !== '' ? `sha256:${createHash('sha256').update(value).digest('hex').slice(0, 12)}` : 'unset'}`;
  });
  return secrets.join(' ') || 'no secrets';
}

async function main(): Promise<void> {
  const client = new ConfigClient({
    ...configClientOptionsFromEnv(process.env, { logger }),
    logger,
  });
  let secretPaths: readonly string[] = [];
  client.on('schemaAccepted', (schema) => {
    secretPaths = schema.secretPaths;
  });
  await client.start();
  const timer = setInterval(() => {
    // One snapshot per run: the config never changes during it.
    const run = client.beginRun();
    let ok = false;
    try {
      const plain = JSON.parse(JSON.stringify(run.config)) as Record<string, unknown>;
      for (const path of secretPaths) deletePath(plain, path);
      console.log(
        `run on version ${run.version}: ${JSON.stringify(plain)} (${describe(run.config, secretPaths)})`,
      );
      ok = true;
    } finally {
      // How the run ended goes into health: a rollout bakes on completed runs.
      client.endRun(run, { ok });
    }
  }, RUN_EVERY_MS);
  const stop = (): void => {
    clearInterval(timer);
    void client.stop().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

function deletePath(object: Record<string, unknown>, path: string): void {
  const keys = path.split('.');
  const last = keys.pop();
  let node: unknown = object;
  for (const key of keys) node = (node as Record<string, unknown> | undefined)?.[key];
  if (last !== undefined && node && typeof node === 'object')
    delete (node as Record<string, unknown>)[last];
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
