import { Transform, type TransformCallback } from 'node:stream';
import {
  type MqttFixedHeader,
  MqttFixedHeaderReader,
  PUBLISH_PACKET_TYPE,
} from './mqtt-fixed-header';
import { MqttPacketError, MqttPacketErrorCode } from './mqtt-packet.error';

/** An oversized PUBLISH the filter skipped without buffering it. */
export interface DroppedPublish {
  readonly topic: string;
  /** The whole packet on the wire: fixed header, variable header and payload. */
  readonly bytes: number;
  readonly qos: 0 | 1 | 2;
  /** Present when `qos` is 1 or 2: the id the sender waits to see acknowledged. */
  readonly packetId?: number;
}

/** What the filter passes on and what it does with a packet over the limit. */
export interface PacketSizeFilterOptions {
  /** Largest packet passed on, fixed header included (as MQTT 5's Maximum Packet Size counts). */
  readonly maxPacketBytes: number;
  /**
   * Called (synchronously, must not throw) for each oversized PUBLISH once its last byte has been
   * skipped. Without it, and for any other packet type, an oversized packet fails the stream.
   */
  readonly onDroppedPublish?: (drop: DroppedPublish) => void;
}

/** A PUBLISH being dropped: its variable header is kept (topic and packet id), the rest skipped. */
interface Dropping {
  readonly header: MqttFixedHeader;
  readonly qos: 0 | 1 | 2;
  /** The variable header's bytes read so far (at most 2 + 65535 + 2). */
  kept: Buffer;
  /** How many variable header bytes to keep: 2 (the topic length) until `sized`. */
  keep: number;
  sized: boolean;
  /** Bytes of the packet not read yet. */
  left: number;
  topic?: string;
  packetId?: number;
}

/**
 * Passes an MQTT byte stream on unchanged, packet by packet, except packets whose fixed header
 * announces more than `maxPacketBytes`: an oversized PUBLISH is skipped as its bytes arrive
 * (only its topic and packet id are kept, so nothing the size of the payload is ever buffered)
 * and reported; any other oversized packet fails the stream. The reader downstream never sees a
 * byte of a skipped packet, and the packets after it reach it intact.
 */
export class PacketSizeFilter extends Transform {
  private readonly maxPacketBytes: number;
  private readonly onDroppedPublish: ((drop: DroppedPublish) => void) | undefined;
  private readonly header = new MqttFixedHeaderReader();
  // Bytes of a fixed header that began in an earlier chunk, held until the packet's fate is known.
  private pendingHeader: Buffer[] = [];
  // Bytes of a passed packet still to come.
  private passing = 0;
  private dropping: Dropping | undefined;

  constructor(options: PacketSizeFilterOptions) {
    super();
    if (!Number.isSafeInteger(options.maxPacketBytes) || options.maxPacketBytes < 2) {
      throw new RangeError('maxPacketBytes must be an integer of at least 2');
    }
    this.maxPacketBytes = options.maxPacketBytes;
    this.onDroppedPublish = options.onDroppedPublish;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.scan(chunk);
      callback();
    } catch (error) {
      callback(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private scan(chunk: Buffer): void {
    const out: Buffer[] = [];
    try {
      this.split(chunk, out);
    } finally {
      // On a failure too: the packets before the bad one are good.
      if (out.length === 1) this.push(out[0]);
      else if (out.length > 1) this.push(Buffer.concat(out));
    }
  }

  /** Appends to `out` what `chunk` holds of packets to pass on. */
  private split(chunk: Buffer, out: Buffer[]): void {
    // chunk[keepFrom, i) is passed on unless a header starting at headerStart turns out too large.
    let keepFrom = 0;
    let headerStart = 0;
    let i = 0;
    while (i < chunk.length) {
      if (this.passing > 0) {
        const n = Math.min(this.passing, chunk.length - i);
        this.passing -= n;
        i += n;
      } else if (this.dropping !== undefined) {
        i = this.skipDropped(this.dropping, chunk, i);
        keepFrom = i;
      } else {
        if (!this.header.inProgress) headerStart = i;
        const header = this.header.push(chunk[i]);
        i += 1;
        if (header === undefined) continue;
        if (header.packetLength <= this.maxPacketBytes) {
          out.push(...this.pendingHeader);
          this.pendingHeader = [];
          this.passing = header.remainingLength;
          continue;
        }
        if (headerStart > keepFrom) out.push(chunk.subarray(keepFrom, headerStart));
        this.pendingHeader = [];
        this.dropping = this.startDrop(header);
        keepFrom = i;
      }
    }
    if (this.dropping === undefined) {
      const end = this.header.inProgress ? headerStart : chunk.length;
      if (end > keepFrom) out.push(chunk.subarray(keepFrom, end));
      // A copy: the few header bytes must not pin the whole chunk.
      if (this.header.inProgress) this.pendingHeader.push(Buffer.from(chunk.subarray(end)));
    }
  }

  private startDrop(header: MqttFixedHeader): Dropping {
    if (header.type !== PUBLISH_PACKET_TYPE || this.onDroppedPublish === undefined) {
      throw new MqttPacketError(
        MqttPacketErrorCode.TooLarge,
        `MQTT packet of type ${header.type} announces ${header.packetLength} bytes, more than the limit of ${this.maxPacketBytes}`,
        header.packetLength,
      );
    }
    const qos = (header.flags >> 1) & 0x03;
    if (qos === 3) this.malformed('a PUBLISH with QoS 3');
    if (header.remainingLength < 2) this.malformed('a PUBLISH too short for its topic length');
    return {
      header,
      qos: qos as 0 | 1 | 2,
      kept: Buffer.alloc(0),
      keep: 2,
      sized: false,
      left: header.remainingLength,
    };
  }

  /** Consumes the dropped packet's bytes from chunk[i...]; returns where the next packet starts. */
  private skipDropped(dropping: Dropping, chunk: Buffer, i: number): number {
    while (dropping.kept.length < dropping.keep && i < chunk.length) {
      const n = Math.min(dropping.keep - dropping.kept.length, chunk.length - i);
      dropping.kept = Buffer.concat([dropping.kept, chunk.subarray(i, i + n)]);
      dropping.left -= n;
      i += n;
      if (dropping.kept.length === dropping.keep) this.readVariableHeader(dropping);
    }
    if (dropping.kept.length < dropping.keep) return i;
    const n = Math.min(dropping.left, chunk.length - i);
    dropping.left -= n;
    i += n;
    if (dropping.left === 0) {
      this.dropping = undefined;
      this.onDroppedPublish?.({
        topic: dropping.topic ?? '',
        bytes: dropping.header.packetLength,
        qos: dropping.qos,
        ...(dropping.packetId === undefined ? {} : { packetId: dropping.packetId }),
      });
    }
    return i;
  }

  // PUBLISH variable header: 2-byte topic length, the topic, and a 2-byte packet id if QoS > 0.
  private readVariableHeader(dropping: Dropping): void {
    const topicLength = dropping.kept.readUInt16BE(0);
    if (!dropping.sized) {
      dropping.sized = true;
      dropping.keep = 2 + topicLength + (dropping.qos > 0 ? 2 : 0);
      if (dropping.keep > dropping.header.remainingLength) {
        this.malformed('a PUBLISH whose topic is longer than the packet');
      }
      if (dropping.kept.length < dropping.keep) return;
    }
    dropping.topic = dropping.kept.toString('utf8', 2, 2 + topicLength);
    if (dropping.qos > 0) dropping.packetId = dropping.kept.readUInt16BE(2 + topicLength);
  }

  private malformed(what: string): never {
    throw new MqttPacketError(MqttPacketErrorCode.Malformed, `MQTT stream carries ${what}`);
  }
}
