import { type AddressInfo, createServer, type Server, Socket } from 'node:net';
import { createBroker } from 'aedes';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { ackPacket, publishOfSize, publishPacket } from '../../test/support/mqtt-wire';
import { RawMqttBroker, type ReceivedPacket } from '../../test/support/raw-mqtt-broker';
import { connectGuarded, guardBrokerConnection } from './packet-size-guard';

const LIMIT = 4096;
const BIG = 1024 * 1024;

interface Drop {
  topic: string;
  bytes: number;
}

/** Polls `check` (a state, not a timer) until it holds; fails after `timeoutMs`. */
async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Resolves on the client's next `event`; fails after `timeoutMs`. */
function next<T extends unknown[]>(
  client: MqttClient,
  event: 'connect' | 'error' | 'close' | 'message',
  timeoutMs = 5000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no "${event}" within ${timeoutMs} ms`)),
      timeoutMs,
    );
    client.once(event, (...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args as T);
    });
  });
}

function isAck(firstByte: number, packetId: number) {
  return (p: ReceivedPacket) => p.firstByte === firstByte && p.body.readUInt16BE(0) === packetId;
}

describe(connectGuarded.name, () => {
  let broker: RawMqttBroker;
  let drops: Drop[];
  const clients: MqttClient[] = [];

  beforeEach(async () => {
    broker = await RawMqttBroker.start();
    drops = [];
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) client.end(true);
    await broker.stop();
  });

  /** An mqtt.js client with the guard, connected to `url` (and waited for when `connected`). */
  async function createSut(
    url = broker.url,
    options: IClientOptions = {},
    connected = true,
  ): Promise<MqttClient> {
    const sut = connectGuarded(
      url,
      { reconnectPeriod: 0, ...options },
      { maxPacketBytes: LIMIT, onOversized: (topic, bytes) => drops.push({ topic, bytes }) },
    );
    clients.push(sut);
    if (connected) await next(sut, 'connect');
    return sut;
  }

  it('drops an oversized QoS 1 PUBLISH unread, acknowledges it, and delivers the next one', async () => {
    const sut = await createSut();
    const received: string[] = [];
    sut.on('message', (topic) => received.push(topic));
    const delivered = next<[string, Buffer]>(sut, 'message');

    broker.send(
      publishOfSize(BIG, { topic: 'system/config/big', qos: 1, packetId: 7, retain: true }),
      publishPacket({ topic: 'system/config/ok', payload: Buffer.from('ok'), qos: 1, packetId: 8 }),
    );

    const [topic, payload] = await delivered;
    expect([topic, payload.toString()]).toEqual(['system/config/ok', 'ok']);
    expect(drops).toEqual([{ topic: 'system/config/big', bytes: BIG }]);
    await broker.waitFor(isAck(0x40, 7), 'PUBACK of the dropped message');
    await broker.waitFor(isAck(0x40, 8), 'PUBACK of the delivered message');
    expect(received).toEqual(['system/config/ok']);
  });

  it('drops an oversized QoS 0 PUBLISH without writing anything back', async () => {
    const sut = await createSut();
    const delivered = next<[string]>(sut, 'message');

    broker.send(
      publishOfSize(LIMIT + 1, { topic: 'a', qos: 0 }),
      publishPacket({ topic: 'b', payload: Buffer.from('b'), qos: 1, packetId: 2 }),
    );

    expect((await delivered)[0]).toBe('b');
    await broker.waitFor(isAck(0x40, 2), 'PUBACK of the delivered message');
    expect(drops).toEqual([{ topic: 'a', bytes: LIMIT + 1 }]);
    // CONNECT and the one PUBACK: nothing for the dropped QoS 0 message.
    expect(broker.received.map((p) => p.firstByte)).toEqual([0x10, 0x40]);
  });

  it('completes a dropped QoS 2 PUBLISH: PUBREC from the guard, PUBCOMP from mqtt.js', async () => {
    await createSut();

    broker.send(publishOfSize(LIMIT + 1, { topic: 'q2', qos: 2, packetId: 0x1234 }));
    await broker.waitFor(isAck(0x50, 0x1234), 'PUBREC');
    broker.send(ackPacket(0x62, 0x1234));

    await broker.waitFor(isAck(0x70, 0x1234), 'PUBCOMP');
    expect(drops).toEqual([{ topic: 'q2', bytes: LIMIT + 1 }]);
  });

  it('guards the connection it opens after a reconnect too', async () => {
    const sut = await createSut(broker.url, { reconnectPeriod: 50 });
    const reconnected = next(sut, 'connect');
    broker.drop();
    await reconnected;
    const delivered = next<[string]>(sut, 'message');

    broker.send(
      publishOfSize(BIG, { topic: 'again', qos: 1, packetId: 3 }),
      publishPacket({ topic: 'after', payload: Buffer.alloc(1) }),
    );

    expect((await delivered)[0]).toBe('after');
    expect(broker.connections).toBe(2);
    expect(drops).toEqual([{ topic: 'again', bytes: BIG }]);
  });

  it('still lets mqtt.js read a refusing CONNACK that the broker closes right after', async () => {
    const refusing = await RawMqttBroker.start({ connackCode: 5 });
    try {
      const sut = await createSut(refusing.url, {}, false);

      const [error] = await next<[Error]>(sut, 'error');

      expect(error.message).toMatch(/Not authorized/i);
    } finally {
      await refusing.stop();
    }
  });

  it('hands mqtt.js every packet the broker sent before it closed the connection', async () => {
    const sut = await createSut();
    const topics: string[] = [];
    sut.on('message', (topic) => topics.push(topic));
    const closed = next(sut, 'close');
    const packets = Array.from({ length: 2000 }, (_, i) =>
      publishPacket({ topic: `t/${i}`, payload: Buffer.alloc(64) }),
    );

    broker.sendAndClose(...packets, publishOfSize(BIG, { topic: 'big', qos: 0 }));

    await closed;
    expect(topics).toHaveLength(packets.length);
    expect(drops).toEqual([{ topic: 'big', bytes: BIG }]);
  });

  it('keeps setNoDelay, and ends cleanly: DISCONNECT, then the connection closes', async () => {
    const setNoDelay = jest.spyOn(Socket.prototype, 'setNoDelay');
    try {
      const sut = await createSut();
      const stream = sut.stream as unknown as { setNoDelay?: (noDelay: boolean) => unknown };

      stream.setNoDelay?.(true);
      expect(setNoDelay).toHaveBeenCalledWith(true);
    } finally {
      setNoDelay.mockRestore();
    }
    const sut = clients[0];
    const closed = next(sut, 'close');

    await sut.endAsync();

    await closed;
    await broker.waitFor((p) => p.firstByte === 0xe0, 'DISCONNECT');
  });

  it('stays ended when ended while still connecting: no reconnect once the socket closes', async () => {
    // A listener that accepts and never answers, so the client is still waiting for CONNACK.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const sut = connectGuarded(
      `mqtt://127.0.0.1:${port}`,
      { reconnectPeriod: 50 },
      { maxPacketBytes: LIMIT, onOversized: () => undefined },
    );
    clients.push(sut);
    sut.on('error', () => undefined);
    await until(() => sockets.length === 1);
    await sut.endAsync();
    const closed = next(sut, 'close');
    for (const socket of sockets) socket.destroy();
    await closed;
    await new Promise<void>((resolve) => silent.close(() => resolve()));

    // mqtt.js' own close handler runs before this test's: it would have scheduled a reconnect.
    expect(sut.reconnecting).toBe(false);
  });
});

describe(guardBrokerConnection.name, () => {
  let server: Server;
  let broker: ReturnType<typeof createBroker>;
  let url: string;
  let refused: number[];

  beforeEach(async () => {
    refused = [];
    broker = createBroker();
    server = createServer((socket) =>
      broker.handle(
        guardBrokerConnection(socket, {
          maxPacketBytes: LIMIT,
          onOversized: (bytes) => refused.push(bytes),
        }),
      ),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no TCP address');
    url = `mqtt://127.0.0.1:${address.port}`;
  });

  afterEach(async () => {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('disconnects a client announcing a packet over the limit and keeps the retained message', async () => {
    const publisher = await connectAsync(url, { reconnectPeriod: 0 });
    await publisher.publishAsync('cfg', Buffer.alloc(LIMIT - 100, 0x61), { qos: 1, retain: true });
    const closed = next(publisher, 'close');

    publisher.publish('cfg', Buffer.alloc(BIG), { qos: 1, retain: true });

    await closed;
    // Fixed header 1 + 3, topic length 2 + "cfg" 3, packet id 2, payload.
    expect(refused).toEqual([1 + 3 + 2 + 3 + 2 + BIG]);
    const subscriber = await connectAsync(url, { reconnectPeriod: 0 });
    try {
      const retained = next<[string, Buffer]>(subscriber, 'message');
      await subscriber.subscribeAsync('cfg', { qos: 1 });
      expect((await retained)[1].length).toBe(LIMIT - 100);
    } finally {
      await subscriber.endAsync();
      publisher.end(true);
    }
  });
});
