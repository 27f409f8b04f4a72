// A process hosting many etcd or NATS KV watchers of one key, each with its own client connection
// (as each simulated worker of fleet-host.ts has its own MQTT connection). Started by the peers
// bench; configured by PEER_WATCH_CONFIG. Values are version numbers; when every watcher here has
// seen version v or later it sends { version: v, at } with `at` the process.hrtime.bigint() (the
// machine's monotonic clock, the same in every process) at which the last of them received it.
import { Etcd3 } from 'etcd3';
import { connect, KvWatchInclude, type NatsConnection, type QueuedIterator } from 'nats';
import type { KvEntry } from 'nats';

export interface PeerWatchConfig {
  kind: 'etcd' | 'nats';
  url: string;
  key: string;
  /** NATS only. */
  bucket?: string;
  count: number;
}

/** Messages to the parent. */
export type PeerWatchMessage =
  | { kind: 'ready'; connections: number }
  | { kind: 'seen'; version: number; at: string }
  | { kind: 'stopped'; cpuMs: number; events: number };

interface Watcher {
  stop(): Promise<void>;
}

const latest: number[] = [];
let reported = 0;
let events = 0;

function onValue(index: number, version: number): void {
  const at = process.hrtime.bigint();
  events += 1;
  if (!(version > latest[index])) return;
  latest[index] = version;
  let min = Infinity;
  for (const v of latest) if (v < min) min = v;
  if (min > reported) {
    reported = min;
    send({ kind: 'seen', version: min, at: at.toString() });
  }
}

function send(message: PeerWatchMessage): void {
  process.send?.(message);
}

async function etcdWatcher(config: PeerWatchConfig, index: number): Promise<Watcher> {
  // A channel of its own: grpc-js would otherwise share one subchannel (one TCP connection)
  // between every client of this process with the same target and options.
  const client = new Etcd3({
    hosts: config.url,
    grpcOptions: { 'grpc.use_local_subchannel_pool': 1 },
    dialTimeout: 10000,
  });
  const watcher = await client.watch().key(config.key).create();
  watcher.on('put', (kv) => onValue(index, Number(kv.value.toString())));
  return {
    stop: async () => {
      await watcher.cancel();
      client.close();
    },
  };
}

async function natsWatcher(config: PeerWatchConfig, index: number): Promise<Watcher> {
  const connection: NatsConnection = await connect({ servers: config.url, timeout: 10000 });
  const kv = await connection.jetstream().views.kv(config.bucket as string, { bindOnly: true });
  // The last value first, then updates: a put made while this watch was being set up is not lost.
  const updates: QueuedIterator<KvEntry> = await kv.watch({
    key: config.key,
    include: KvWatchInclude.LastValue,
  });
  void (async () => {
    for await (const entry of updates) {
      if (entry.operation === 'PUT') onValue(index, Number(entry.string()));
    }
  })();
  return {
    stop: async () => {
      updates.stop();
      await connection.close();
    },
  };
}

async function main(): Promise<void> {
  const config = JSON.parse(process.env.PEER_WATCH_CONFIG ?? '{}') as PeerWatchConfig;
  const start = config.kind === 'etcd' ? etcdWatcher : natsWatcher;
  const watchers: Watcher[] = [];
  let ready: { cpu: NodeJS.CpuUsage; events: number } | undefined;
  process.on('message', (message) => {
    if (message !== 'stop') return;
    if (ready) {
      // CPU spent receiving events since every watcher was ready.
      const cpu = process.cpuUsage(ready.cpu);
      send({
        kind: 'stopped',
        cpuMs: (cpu.user + cpu.system) / 1000,
        events: events - ready.events,
      });
    }
    void Promise.allSettled(watchers.map((w) => w.stop())).finally(() => process.exit(0));
  });
  // The parent gone (it crashed): do not linger.
  process.on('disconnect', () => process.exit(0));
  for (let i = 0; i < config.count; i++) latest.push(0);
  for (let i = 0; i < config.count; i += 50) {
    const batch = Array.from({ length: Math.min(50, config.count - i) }, (_, j) =>
      start(config, i + j),
    );
    watchers.push(...(await Promise.all(batch)));
  }
  const cpuAtReady = process.cpuUsage();
  const eventsAtReady = events;
  send({ kind: 'ready', connections: watchers.length });
  process.on('message', (message) => {
    if (message !== 'stop') return;
    // CPU spent receiving events since every watcher was ready.
    const cpu = process.cpuUsage(cpuAtReady);
    send({
      kind: 'stopped',
      cpuMs: (cpu.user + cpu.system) / 1000,
      events: events - eventsAtReady,
    });
    void Promise.allSettled(watchers.map((w) => w.stop())).finally(() => process.exit(0));
  });
  // The parent gone (it crashed): do not linger.
  process.on('disconnect', () => process.exit(0));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
