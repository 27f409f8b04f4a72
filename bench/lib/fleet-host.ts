// A process hosting many ConfigClients, each a simulated worker with its own MQTT connection,
// last-known-good file and health topic. Started by the fan-out bench; configured by FLEET_CONFIG.
import { join } from 'node:path';
import { ConfigClient } from '@app/config-client';

interface FleetConfig {
  mqttUrl: string;
  topicPrefix: string;
  first: number;
  count: number;
  trustedKid: string;
  trustedKey: string;
  secretKey: string;
  hmacKey: string;
  lkgDir: string;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.env.FLEET_CONFIG ?? '{}') as FleetConfig;
  const clients: ConfigClient[] = [];
  for (let i = 0; i < config.count; i++) {
    const instanceId = `bench-${config.first + i}`;
    clients.push(
      new ConfigClient({
        service: 'dedup-worker',
        instanceId,
        mqttUrl: config.mqttUrl,
        topicPrefix: config.topicPrefix,
        trustedKeys: new Map([[config.trustedKid, Buffer.from(config.trustedKey, 'base64')]]),
        secretKey: Buffer.from(config.secretKey, 'base64'),
        lkgPath: join(config.lkgDir, `${instanceId}.lkg.json`),
        lkgHmacKey: Buffer.from(config.hmacKey, 'base64'),
        initialConfigTimeoutMs: 5000,
      }),
    );
  }
  for (let i = 0; i < clients.length; i += 50) {
    await Promise.all(clients.slice(i, i + 50).map((c) => c.start()));
  }
  const cpuAtReady = process.cpuUsage();
  process.send?.('ready');
  process.on('message', (message) => {
    if (message !== 'stop') return;
    // CPU spent on applying versions (and reporting them) since the fleet was ready.
    const cpu = process.cpuUsage(cpuAtReady);
    const applies = clients.reduce((sum, c) => sum + c.stats().accepted, 0);
    process.send?.({
      cpuMs: (cpu.user + cpu.system) / 1000,
      userMs: cpu.user / 1000,
      systemMs: cpu.system / 1000,
      applies,
    });
    void Promise.all(clients.map((c) => c.stop())).finally(() => process.exit(0));
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
