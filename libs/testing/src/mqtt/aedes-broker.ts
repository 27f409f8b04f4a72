import { createServer, type Server, type Socket } from 'node:net';
import { type Client, createBroker } from 'aedes';
import { guardBrokerConnection } from '@app/config-client';
import { MAX_MQTT_PACKET_BYTES } from '@app/contracts';
import { freePort } from '../net/ports';

/** An in-process aedes broker owned by one test: it can be stopped and started again on its port. */
export interface TestBroker {
  readonly url: string;
  readonly port: number;
  /** Starts it again after `stop()` (in memory: a restart loses retained messages). */
  start(): Promise<void>;
  /** Closes every connection and the listener, as a broker outage would. */
  stop(): Promise<void>;
  /** Destroys the socket of the connected client with this id, as a network failure would. */
  dropClient(clientId: string): void;
}

/** How a test's aedes broker treats packets. */
export interface AedesOptions {
  /**
   * Behind the packet size guard of the manager's embedded broker (MAX_MQTT_PACKET_BYTES), by
   * default; `false` lets any packet through, for tests of a client's own size limit.
   */
  packetSizeGuard?: boolean;
}

/** Starts an aedes broker on 127.0.0.1 and a free port. */
export async function startAedes(options: AedesOptions = {}): Promise<TestBroker> {
  const guarded = options.packetSizeGuard ?? true;
  const port = await freePort();
  let server: Server | undefined;
  let broker: ReturnType<typeof createBroker> | undefined;
  const sockets = new Set<Socket>();
  const clients = new Map<string, Client>();
  const handle: TestBroker = {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    start: async () => {
      const b = createBroker();
      broker = b;
      b.on('client', (client) => clients.set(client.id, client));
      b.on('clientDisconnect', (client) => {
        if (clients.get(client.id) === client) clients.delete(client.id);
      });
      const s = createServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        b.handle(
          guarded
            ? guardBrokerConnection(socket, { maxPacketBytes: MAX_MQTT_PACKET_BYTES })
            : socket,
        );
      });
      server = s;
      await new Promise<void>((resolve) => s.listen(port, '127.0.0.1', resolve));
    },
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      const s = server;
      const b = broker;
      if (b) await new Promise<void>((resolve) => b.close(() => resolve()));
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
      server = undefined;
      broker = undefined;
      clients.clear();
    },
    dropClient: (clientId) => {
      const client = clients.get(clientId);
      if (client === undefined) throw new Error(`no connected client ${clientId}`);
      client.conn.destroy();
    },
  };
  await handle.start();
  return handle;
}

/** An mqtt:// URL where nothing listens (a port that was free a moment ago). */
export async function unreachableBrokerUrl(): Promise<string> {
  return `mqtt://127.0.0.1:${await freePort()}`;
}
