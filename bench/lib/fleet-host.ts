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
  /**
   * Also send { kind: 'applied', version, at } once every client here accepted `version` (or a
   * later one), `at` the process.hrtime.bigint() of the last acceptance (the peers bench).
   */
  reportApplied?: boolean;
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
  if (config.reportApplied) {
    const latest = clients.map(() => 0);
    let reported = 0;
    clients.forEach((client, index) =>
      client.on('accepted', (event) => {
        const at = process.hrtime.bigint();
        if (event.source !== 'broker' || event.version <= latest[index]) return;
        latest[index] = event.version;
        const min = Math.min(...latest);
        if (min > reported) {
          reported = min;
          process.send?.({ kind: 'applied', version: min, at: at.toString() });
        }
      }),
    );
  }
  for (let i = 0; i < clients.length; i += 50) {
    await Promise.all(clients.slice(i, i + 50).map((c) => c.start()));
  }
  const cpuAtReady = process.cpuUsage();
  const acceptedAtReady = clients.reduce((sum, c) => sum + c.stats().accepted, 0);
  process.send?.('ready');
  process.on('message', (message) => {
    if (message !== 'stop') return;
    // CPU spent on applying versions (and reporting them) since the fleet was ready.
    const cpu = process.cpuUsage(cpuAtReady);
    const applies = clients.reduce((sum, c) => sum + c.stats().accepted, 0) - acceptedAtReady;
    process.send?.({
      cpuMs: (cpu.user + cpu.system) / 1000,
      userMs: cpu.user / 1000,
      systemMs: cpu.system / 1000,
      applies,
    });
    void Promise.all(clients.map((c) => c.stop())).finally(() => process.exit(0));
  });
  // The parent gone (it crashed): do not linger.
  process.on('disconnect', () => process.exit(0));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
