import { createServer, type Server, type Socket } from 'node:net';
import { ChangeSignal } from '@app/testing';
import { mqttPacket } from './mqtt-wire';

/** A packet a client sent to the raw broker. */
export interface ReceivedPacket {
  /** The first byte (type and flags). */
  readonly firstByte: number;
  readonly body: Buffer;
}

/**
 * A scripted MQTT "broker" on 127.0.0.1: it answers CONNECT with CONNACK (return code
 * `connackCode`) and otherwise only records what clients send and writes what the test tells
 * it to, byte for byte, so a test controls the wire exactly. One client at a time.
 */
export class RawMqttBroker {
  readonly received: ReceivedPacket[] = [];
  connections = 0;
  private socket: Socket | undefined;
  private readonly changes = new ChangeSignal();

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly connackCode: number,
  ) {}

  static async start(options: { connackCode?: number } = {}): Promise<RawMqttBroker> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no TCP address');
    const broker = new RawMqttBroker(
      server,
      `mqtt://127.0.0.1:${address.port}`,
      options.connackCode ?? 0,
    );
    server.on('connection', (socket) => broker.accept(socket));
    return broker;
  }

  /** Writes raw bytes to the connected client. */
  send(...packets: Buffer[]): void {
    if (this.socket === undefined) throw new Error('no client connected');
    this.socket.write(Buffer.concat(packets));
  }

  /** Writes raw bytes to the connected client, then closes the connection (FIN, not a reset). */
  sendAndClose(...packets: Buffer[]): void {
    if (this.socket === undefined) throw new Error('no client connected');
    this.socket.end(Buffer.concat(packets));
  }

  /** Closes the client's connection (as a broker restart would). */
  drop(): void {
    this.socket?.destroy();
  }

  /** Resolves once a received packet matches; fails after `timeoutMs`. */
  async waitFor(
    match: (packet: ReceivedPacket) => boolean,
    what: string,
    timeoutMs = 5000,
  ): Promise<ReceivedPacket> {
    return this.changes.until(
      () => this.received.find(match),
      timeoutMs,
      () => {
        const seen = this.received.map((p) => `0x${p.firstByte.toString(16)}`).join(', ');
        return `no ${what} within ${timeoutMs} ms (received ${seen || 'nothing'})`;
      },
    );
  }

  async stop(): Promise<void> {
    this.socket?.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    this.socket?.destroy();
    this.socket = socket;
    this.connections += 1;
    let buffered = Buffer.alloc(0);
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const packet = readPacket(buffered);
        if (packet === undefined) break;
        buffered = buffered.subarray(packet.length);
        this.received.push(packet.packet);
        if (packet.packet.firstByte === 0x10) {
          socket.write(mqttPacket(0x20, Buffer.from([0, this.connackCode])));
          if (this.connackCode !== 0) socket.end();
        }
        this.changes.notify();
      }
    });
  }
}

// Client packets are small: a plain reader over the whole buffer is enough here.
function readPacket(bytes: Buffer): { packet: ReceivedPacket; length: number } | undefined {
  let remaining = 0;
  let multiplier = 1;
  let offset = 1;
  for (;;) {
    if (offset >= bytes.length) return undefined;
    const byte = bytes[offset];
    remaining += (byte & 0x7f) * multiplier;
    multiplier *= 128;
    offset += 1;
    if ((byte & 0x80) === 0) break;
  }
  if (bytes.length < offset + remaining) return undefined;
  return {
    packet: { firstByte: bytes[0], body: Buffer.from(bytes.subarray(offset, offset + remaining)) },
    length: offset + remaining,
  };
}
