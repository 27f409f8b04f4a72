import { createServer, type Server } from 'node:net';
import { type Client, createBroker } from 'aedes';

/** An in-process aedes broker on a random port, owned by one test. */
export interface TestBroker {
  readonly url: string;
  /** Destroys the socket of the connected client with this id, as a network failure would. */
  dropClient(clientId: string): void;
  stop(): Promise<void>;
}

/** Starts an aedes broker on 127.0.0.1 and a random free port. */
export async function startTestBroker(): Promise<TestBroker> {
  const broker = createBroker();
  const clients = new Map<string, Client>();
  broker.on('client', (client) => clients.set(client.id, client));
  broker.on('clientDisconnect', (client) => {
    if (clients.get(client.id) === client) clients.delete(client.id);
  });
  const server: Server = createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return {
    url: `mqtt://127.0.0.1:${address.port}`,
    dropClient: (clientId) => {
      const client = clients.get(clientId);
      if (client === undefined) throw new Error(`no connected client ${clientId}`);
      client.conn.destroy();
    },
    stop: async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** An mqtt:// URL where nothing listens (a port that was free a moment ago). */
export async function unreachableBrokerUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return `mqtt://127.0.0.1:${address.port}`;
}
