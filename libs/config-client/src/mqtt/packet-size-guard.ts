import { connect, type IClientOptions, type MqttClient, type StreamBuilder } from 'mqtt';
import { GuardedMqttStream, type MqttTransport } from './guarded-mqtt-stream';
import { MqttPacketError, MqttPacketErrorCode } from './mqtt-packet.error';
import { type DroppedPublish, PacketSizeFilter } from './packet-size-filter';

/** What a client's packet size guard needs. */
export interface ClientPacketGuardOptions {
  /** Largest packet read, fixed header included (the contracts' MAX_MQTT_PACKET_BYTES). */
  readonly maxPacketBytes: number;
  /** Called for each dropped PUBLISH with its topic and its size on the wire; must not throw. */
  readonly onOversized: (topic: string, bytes: number) => void;
}

/** What a broker connection's packet size guard needs. */
export interface BrokerPacketGuardOptions {
  /** Largest packet a client may send, fixed header included. */
  readonly maxPacketBytes: number;
  /** Called once when a client is disconnected for announcing a larger packet. */
  readonly onOversized?: (bytes: number) => void;
}

// mqtt.js keeps the function that opens each connection (TCP, TLS or WebSocket) here; it is
// not in its typings, but it is the one place to put something between the socket and its parser.
interface WithStreamBuilder {
  streamBuilder?: StreamBuilder;
}

/**
 * Connects an mqtt.js client with a packet size guard under it. mqtt.js reads a whole packet
 * into memory before it checks anything (its maximumPacketSize is MQTT 5 only, and applied after
 * parsing), so the guard skips an incoming PUBLISH larger than `maxPacketBytes` as its bytes
 * arrive, acknowledges it so the broker's in-flight window moves on, and reports it; mqtt.js
 * never sees it. Any other oversized packet ends the connection (mqtt.js then reconnects).
 * Every connection is guarded, reconnects included. Attach listeners right after the call: the
 * connection completes asynchronously.
 */
export function connectGuarded(
  url: string,
  clientOptions: IClientOptions,
  options: ClientPacketGuardOptions,
): MqttClient {
  // manualConnect, so that not even the first connection opens before the guard is in place.
  const client = connect(url, { ...clientOptions, manualConnect: true });
  const internals = client as unknown as WithStreamBuilder;
  const build = internals.streamBuilder;
  if (typeof build !== 'function') {
    throw new Error('this mqtt.js has no MqttClient.streamBuilder: update connectGuarded');
  }
  internals.streamBuilder = (c, opts) => guardClientStream(build(c, opts), options);
  client.connect();
  // With manualConnect set, end() clears `disconnecting` once it is done, so a socket that
  // closes afterwards (ended while still connecting) schedules a reconnect of an ended client.
  client.options.manualConnect = false;
  return client;
}

/**
 * The stream to hand a broker (aedes) instead of an accepted socket: the broker reads only what
 * the guard passes on, and a client whose packet header announces more than `maxPacketBytes` is
 * disconnected at that header, before the broker buffers a byte of the packet.
 */
export function guardBrokerConnection(
  socket: MqttTransport,
  options: BrokerPacketGuardOptions,
): GuardedMqttStream {
  const filter = new PacketSizeFilter({ maxPacketBytes: options.maxPacketBytes });
  filter.once('error', (error: Error) => {
    if (error instanceof MqttPacketError && error.code === MqttPacketErrorCode.TooLarge) {
      options.onOversized?.(error.packetBytes ?? 0);
    }
  });
  return new GuardedMqttStream(socket, filter);
}

function guardClientStream(
  transport: MqttTransport,
  options: ClientPacketGuardOptions,
): GuardedMqttStream {
  const filter = new PacketSizeFilter({
    maxPacketBytes: options.maxPacketBytes,
    onDroppedPublish: (drop) => {
      const ack = acknowledgementOf(drop);
      // Through the guarded stream rather than the socket directly: it queues behind whatever
      // mqtt.js has written, so the ack never lands in the middle of one of its packets.
      if (ack !== undefined && guarded.writable) guarded.write(ack);
      options.onOversized(drop.topic, drop.bytes);
    },
  });
  const guarded = new GuardedMqttStream(transport, filter);
  return guarded;
}

/**
 * QoS 1: PUBACK, as if the message had been handled. QoS 2: PUBREC; the broker answers PUBREL,
 * which mqtt.js completes with PUBCOMP even for a message it never stored. We subscribe with
 * QoS 1, so brokers downgrade QoS 2 messages anyway.
 */
function acknowledgementOf(drop: DroppedPublish): Buffer | undefined {
  if (drop.packetId === undefined) return undefined;
  const type = drop.qos === 1 ? 0x40 : 0x50;
  return Buffer.from([type, 0x02, drop.packetId >> 8, drop.packetId & 0xff]);
}
