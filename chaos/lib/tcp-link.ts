import { createServer, type Server, Socket } from 'node:net';
import { freePort } from '@app/testing';
import type { Janitor } from './janitor';

/**
 * A TCP forwarder on a free loopback port to `127.0.0.1:<target>`: the network between two
 * brokers, which the harness can cut (every open connection is reset and new ones are refused)
 * and restore, without touching either broker or any of their clients.
 */
export class TcpLink {
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;

  private constructor(
    readonly port: number,
    private readonly target: number,
  ) {}

  /** Opens the link; the janitor closes it if the harness ends. */
  static async open(target: number, janitor: Janitor): Promise<TcpLink> {
    const link = new TcpLink(await freePort(), target);
    await link.restore();
    janitor.add(() => link.close());
    return link;
  }

  /** Whether it forwards connections now. */
  get up(): boolean {
    return this.server !== undefined;
  }

  /** How many connections it carries now. */
  get connections(): number {
    return this.sockets.size / 2;
  }

  /** Resets every connection it carries and refuses new ones until restore(). */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.resetAndDestroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Listens again (on the same port): new connections are forwarded. */
  async restore(): Promise<void> {
    if (this.server) return;
    const server = createServer((inbound) => this.forward(inbound));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  /** Synchronous close for exit handlers. */
  close(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    this.server?.close();
    this.server = undefined;
  }

  private forward(inbound: Socket): void {
    const outbound = new Socket();
    for (const socket of [inbound, outbound]) {
      this.sockets.add(socket);
      socket.setNoDelay(true);
      socket.once('close', () => {
        this.sockets.delete(socket);
        // One side gone: the other follows, as a broken network path would end both.
        inbound.destroy();
        outbound.destroy();
      });
      socket.on('error', () => undefined);
    }
    inbound.pipe(outbound);
    outbound.pipe(inbound);
    outbound.connect(this.target, '127.0.0.1');
  }
}
