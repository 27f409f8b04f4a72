/** Why a packet size guard ended an MQTT connection; mqtt.js reports stream errors that carry a code. */
export enum MqttPacketErrorCode {
  /** A packet the guard cannot skip (any but a PUBLISH, or on a broker) announced more than the limit. */
  TooLarge = 'ERR_MQTT_PACKET_TOO_LARGE',
  /** The bytes are not MQTT: a remaining length over 4 bytes, a QoS of 3, a topic longer than its packet. */
  Malformed = 'ERR_MQTT_MALFORMED_PACKET',
}

/** An MQTT connection was ended by a packet size guard; the message names the packet, never its content. */
export class MqttPacketError extends Error {
  constructor(
    readonly code: MqttPacketErrorCode,
    message: string,
    /** The announced size of the packet at fault (fixed header included), when known. */
    readonly packetBytes?: number,
  ) {
    super(message);
    this.name = 'MqttPacketError';
  }
}
