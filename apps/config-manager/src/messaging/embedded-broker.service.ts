import { Inject, Injectable, Logger } from '@nestjs/common';
import { createBroker } from 'aedes';
import { createServer, Server } from 'node:net';
import { guardBrokerConnection } from '@app/config-client';
import { MAX_MQTT_PACKET_BYTES } from '@app/contracts';
import type { Settings } from '../settings/settings';
import { SETTINGS } from '../settings/settings.module';

type Broker = ReturnType<typeof createBroker>;

/**
 * The in-process MQTT broker (aedes) used when MQTT_URL is unset, so `npm start` needs nothing
 * else. It keeps retained messages in memory; the manager republishes every current version
 * when it connects, so a restart heals it. aedes has no packet size limit, so each connection
 * goes through a guard that disconnects a client at the header of a packet larger than
 * MAX_MQTT_PACKET_BYTES, as mosquitto's max_packet_size does, before aedes buffers it.
 */
@Injectable()
export class EmbeddedBrokerService {
  private readonly logger = new Logger(EmbeddedBrokerService.name);
  private broker: Broker | undefined;
  private server: Server | undefined;
  private starting: Promise<string> | undefined;

  constructor(@Inject(SETTINGS) private readonly settings: Settings) {}

  /** Starts the broker once and returns its URL. */
  start(): Promise<string> {
    this.starting ??= this.listen();
    return this.starting;
  }

  /** Stops the broker (called by the connection after it disconnected). */
  async stop(): Promise<void> {
    const server = this.server;
    const broker = this.broker;
    if (!server || !broker) return;
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
    this.server = undefined;
    this.broker = undefined;
    this.starting = undefined;
  }

  private async listen(): Promise<string> {
    const { embeddedHost: host, embeddedPort: port } = this.settings.mqtt;
    const broker = createBroker();
    // Small MQTT packets must not wait for delayed ACKs (Nagle), or each hop costs ~40 ms.
    const server = createServer((socket) => {
      socket.setNoDelay(true);
      const client = `${socket.remoteAddress}:${socket.remotePort}`;
      broker.handle(
        guardBrokerConnection(socket, {
          maxPacketBytes: MAX_MQTT_PACKET_BYTES,
          onOversized: (bytes) =>
            this.logger.warn(
              `Disconnected MQTT client ${client}: it sent a ${bytes}-byte packet, more than the ` +
                `limit of ${MAX_MQTT_PACKET_BYTES}. Config envelopes are far smaller; find that client`,
            ),
        }),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          new Error(
            error.code === 'EADDRINUSE'
              ? `MQTT_EMBEDDED_PORT ${port} is in use on ${host}: choose another port or set MQTT_URL to an external broker`
              : `embedded MQTT broker could not listen on ${host}:${port}: ${error.message}`,
          ),
        ),
      );
      server.listen(port, host, resolve);
    });
    this.broker = broker;
    this.server = server;
    const address = server.address();
    const actualPort = typeof address === 'object' && address ? address.port : port;
    this.logger.log(
      `Embedded MQTT broker listening on mqtt://${host}:${actualPort} (set MQTT_URL to use an external broker)`,
    );
    return `mqtt://${host}:${actualPort}`;
  }
}
