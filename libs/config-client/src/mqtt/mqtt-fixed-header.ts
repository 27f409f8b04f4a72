import { MqttPacketError, MqttPacketErrorCode } from './mqtt-packet.error';

/** MQTT control packet type of PUBLISH (the high nibble of the first byte). */
export const PUBLISH_PACKET_TYPE = 3;

/** The first bytes of every MQTT control packet: type and flags, then the remaining length. */
export interface MqttFixedHeader {
  /** 1 (CONNECT) to 15 (AUTH). */
  readonly type: number;
  /** The low nibble of the first byte (for a PUBLISH: DUP, QoS and RETAIN). */
  readonly flags: number;
  /** Bytes after the fixed header: variable header and payload. */
  readonly remainingLength: number;
  /** The whole packet on the wire: the fixed header (2 to 5 bytes) plus the remaining length. */
  readonly packetLength: number;
}

// The remaining length is a base-128 varint of at most 4 bytes (MQTT 3.1.1 §2.2.3, 5.0 §1.5.5).
const MAX_LENGTH_BYTES = 4;

/**
 * Reads one fixed header a byte at a time, so a header split across TCP chunks costs nothing
 * to reassemble; the caller skips or forwards the packet's body itself.
 */
export class MqttFixedHeaderReader {
  private firstByte = -1;
  private remainingLength = 0;
  private multiplier = 1;
  private lengthBytes = 0;

  /** Whether a header has begun and is not complete yet. */
  get inProgress(): boolean {
    return this.firstByte !== -1;
  }

  /** Takes the next byte; returns the header once it is complete. Throws MqttPacketError on a malformed length. */
  push(byte: number): MqttFixedHeader | undefined {
    if (this.firstByte === -1) {
      this.firstByte = byte;
      return undefined;
    }
    this.remainingLength += (byte & 0x7f) * this.multiplier;
    this.lengthBytes += 1;
    if ((byte & 0x80) !== 0) {
      if (this.lengthBytes === MAX_LENGTH_BYTES) {
        throw new MqttPacketError(
          MqttPacketErrorCode.Malformed,
          'MQTT remaining length runs over 4 bytes: the stream is not MQTT',
        );
      }
      this.multiplier *= 128;
      return undefined;
    }
    const header: MqttFixedHeader = {
      type: this.firstByte >> 4,
      flags: this.firstByte & 0x0f,
      remainingLength: this.remainingLength,
      packetLength: 1 + this.lengthBytes + this.remainingLength,
    };
    this.firstByte = -1;
    this.remainingLength = 0;
    this.multiplier = 1;
    this.lengthBytes = 0;
    return header;
  }
}
