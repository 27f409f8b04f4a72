/** MQTT packets built byte by byte, so tests control exactly what crosses the wire. */

/** The remaining-length varint of MQTT (1 to 4 bytes; a longer value is a test bug). */
export function remainingLength(length: number): Buffer {
  const bytes: number[] = [];
  let rest = length;
  do {
    let byte = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest > 0) byte |= 0x80;
    bytes.push(byte);
  } while (rest > 0);
  if (bytes.length > 4) throw new Error(`${length} does not fit an MQTT remaining length`);
  return Buffer.from(bytes);
}

/** A packet: first byte (type and flags), remaining length, body. */
export function mqttPacket(firstByte: number, body: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.concat([Buffer.from([firstByte]), remainingLength(body.length), body]);
}

/** What a PUBLISH carries. */
export interface PublishSpec {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos?: 0 | 1 | 2;
  /** Required with qos 1 or 2. */
  readonly packetId?: number;
  readonly retain?: boolean;
}

/** A PUBLISH packet. */
export function publishPacket(spec: PublishSpec): Buffer {
  const qos = spec.qos ?? 0;
  const topic = Buffer.from(spec.topic, 'utf8');
  const parts = [uint16(topic.length), topic];
  if (qos > 0) parts.push(uint16(spec.packetId ?? 1));
  parts.push(spec.payload);
  return mqttPacket(0x30 | (qos << 1) | (spec.retain === true ? 1 : 0), Buffer.concat(parts));
}

/** A PUBLISH of exactly `packetBytes` bytes on the wire (fixed header included). */
export function publishOfSize(packetBytes: number, spec: Omit<PublishSpec, 'payload'>): Buffer {
  const variableHeader = 2 + Buffer.byteLength(spec.topic) + ((spec.qos ?? 0) > 0 ? 2 : 0);
  for (let lengthBytes = 1; lengthBytes <= 4; lengthBytes += 1) {
    const remaining = packetBytes - 1 - lengthBytes;
    if (remainingLength(remaining).length === lengthBytes && remaining >= variableHeader) {
      return publishPacket({ ...spec, payload: Buffer.alloc(remaining - variableHeader, 0x61) });
    }
  }
  throw new Error(`no PUBLISH on ${spec.topic} is exactly ${packetBytes} bytes`);
}

/** PUBACK, PUBREC, PUBREL or PUBCOMP for `packetId`. */
export function ackPacket(firstByte: 0x40 | 0x50 | 0x62 | 0x70, packetId: number): Buffer {
  return mqttPacket(firstByte, uint16(packetId));
}

function uint16(value: number): Buffer {
  const buffer = Buffer.alloc(2);
  buffer.writeUInt16BE(value);
  return buffer;
}
