import { Duplex } from 'node:stream';
import type { PacketSizeFilter } from './packet-size-filter';

/** The connection under a guarded stream: a TCP or TLS socket (or mqtt.js' WebSocket stream). */
export type MqttTransport = Duplex & { setNoDelay?: (noDelay?: boolean) => unknown };

/**
 * What mqtt.js or aedes reads and writes instead of the socket: reads come through the packet
 * size filter, writes go to the socket unchanged (in order, corked together when the writer
 * corks), and the two close together. It keeps what both libraries use of a socket: write, end,
 * destroy, the 'close', 'error' and 'end' events, and setNoDelay.
 */
export class GuardedMqttStream extends Duplex {
  private transportEnded = false;

  constructor(
    private readonly transport: MqttTransport,
    private readonly incoming: PacketSizeFilter,
  ) {
    super();
    transport.on('end', () => {
      this.transportEnded = true;
    });
    transport.on('error', (error: Error) => this.destroy(error));
    transport.on('close', () => this.onTransportClose());
    incoming.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) incoming.pause();
    });
    incoming.on('end', () => this.push(null));
    incoming.on('error', (error: Error) => this.destroy(error));
    transport.pipe(incoming);
  }

  /** Forwards to the socket (mqtt.js turns Nagle off through this after connecting). */
  setNoDelay(noDelay = true): this {
    this.transport.setNoDelay?.(noDelay);
    return this;
  }

  override _read(): void {
    this.incoming.resume();
  }

  override _write(
    chunk: Buffer,
    encoding: BufferEncoding,
    callback: (error?: Error) => void,
  ): void {
    if (this.transport.write(chunk, encoding)) callback();
    else this.transport.once('drain', () => callback());
  }

  override _writev(
    chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>,
    callback: (error?: Error) => void,
  ): void {
    // One packet's pieces leave in one TCP segment, as they would from a corked socket.
    this.transport.cork();
    let flowing = true;
    for (const { chunk, encoding } of chunks) flowing = this.transport.write(chunk, encoding);
    this.transport.uncork();
    if (flowing) callback();
    else this.transport.once('drain', () => callback());
  }

  override _final(callback: (error?: Error) => void): void {
    this.transport.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.transport.destroy();
    this.incoming.destroy();
    callback(error);
  }

  private onTransportClose(): void {
    // A broker may send its last packets (a CONNACK refusing the client) and close at once:
    // the reader gets them before 'close', as it would from the socket itself.
    if (this.transportEnded && !this.readableEnded && !this.destroyed) {
      this.once('end', () => this.destroy());
    } else {
      this.destroy();
    }
  }
}
