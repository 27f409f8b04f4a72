import fc from 'fast-check';
import { ackPacket, mqttPacket, publishOfSize, publishPacket } from '../../test/support/mqtt-wire';
import { MqttPacketError, MqttPacketErrorCode } from './mqtt-packet.error';
import { type DroppedPublish, PacketSizeFilter } from './packet-size-filter';

const LIMIT = 1024;
const PINGRESP = mqttPacket(0xd0);

interface Outcome {
  readonly output: Buffer;
  readonly drops: DroppedPublish[];
  readonly error?: unknown;
}

/** Feeds `chunks` through a filter and collects what it passes on, drops and fails with. */
async function run(
  chunks: readonly Buffer[],
  options: { maxPacketBytes?: number; dropPublish?: boolean } = {},
): Promise<Outcome> {
  const drops: DroppedPublish[] = [];
  const sut = new PacketSizeFilter({
    maxPacketBytes: options.maxPacketBytes ?? LIMIT,
    onDroppedPublish: options.dropPublish === false ? undefined : (drop) => drops.push(drop),
  });
  const output: Buffer[] = [];
  sut.on('data', (chunk: Buffer) => output.push(chunk));
  const done = new Promise<unknown>((resolve) => {
    sut.on('end', () => resolve(undefined));
    sut.on('error', resolve);
  });
  for (const chunk of chunks) sut.write(chunk);
  sut.end();
  const error = await done;
  return { output: Buffer.concat(output), drops, ...(error === undefined ? {} : { error }) };
}

/** `bytes` cut at the given offsets (sorted, deduplicated, out-of-range ones ignored). */
function cut(bytes: Buffer, offsets: readonly number[]): Buffer[] {
  const points = [...new Set(offsets.filter((o) => o > 0 && o < bytes.length))].sort(
    (a, b) => a - b,
  );
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  return chunks;
}

/** One byte per chunk: every header split at every possible place. */
function bytewise(bytes: Buffer): Buffer[] {
  return [...bytes].map((byte) => Buffer.from([byte]));
}

describe(PacketSizeFilter.name, () => {
  const small = publishPacket({ topic: 'system/config/a', payload: Buffer.from('{"v":1}') });
  const oversized = publishOfSize(LIMIT + 1, { topic: 'system/config/b', qos: 1, packetId: 7 });

  it('passes packets up to the limit unchanged, whatever the chunking', async () => {
    const stream = Buffer.concat([
      small,
      PINGRESP,
      ackPacket(0x40, 3),
      publishOfSize(LIMIT, { topic: 'x', qos: 2, packetId: 9 }),
    ]);

    for (const chunks of [[stream], bytewise(stream), cut(stream, [1, 2, 40, 41, 500])]) {
      const outcome = await run(chunks);
      expect(outcome.output.equals(stream)).toBe(true);
      expect(outcome.drops).toEqual([]);
    }
  });

  it('passes a packet of exactly the limit and drops one of the limit plus one', async () => {
    const atLimit = publishOfSize(LIMIT, { topic: 't', qos: 1, packetId: 1 });
    const overLimit = publishOfSize(LIMIT + 1, { topic: 't', qos: 1, packetId: 2 });
    expect([atLimit.length, overLimit.length]).toEqual([LIMIT, LIMIT + 1]);

    const outcome = await run([Buffer.concat([atLimit, overLimit])]);

    expect(outcome.output.equals(atLimit)).toBe(true);
    expect(outcome.drops).toEqual([{ topic: 't', bytes: LIMIT + 1, qos: 1, packetId: 2 }]);
  });

  it('drops an oversized packet among several in one chunk and passes the ones around it', async () => {
    const outcome = await run([Buffer.concat([small, oversized, PINGRESP, small])]);

    expect(outcome.output.equals(Buffer.concat([small, PINGRESP, small]))).toBe(true);
    expect(outcome.drops).toEqual([
      { topic: 'system/config/b', bytes: LIMIT + 1, qos: 1, packetId: 7 },
    ]);
  });

  it('reads a fixed header split across chunks, at every byte', async () => {
    const stream = Buffer.concat([small, oversized, small]);

    const outcome = await run(bytewise(stream));

    expect(outcome.output.equals(Buffer.concat([small, small]))).toBe(true);
    expect(outcome.drops).toHaveLength(1);
  });

  it.each([
    [1, 3],
    [1, 127],
    [2, 128],
    [2, 16_383],
    [3, 16_384],
    [3, 2_097_151],
    [4, 2_097_152],
  ])('reads a %i-byte remaining length (%i)', async (lengthBytes, remaining) => {
    // Topic "t", QoS 0: a 3-byte variable header, the rest payload.
    const packet = publishPacket({ topic: 't', payload: Buffer.alloc(remaining - 3) });
    expect(packet.length).toBe(1 + lengthBytes + remaining);
    const stream = Buffer.concat([packet, PINGRESP]);

    const passed = await run(cut(stream, [1, 2, 3, 4, 5]), { maxPacketBytes: packet.length });
    const dropped = await run(cut(stream, [1, 2, 3, 4, 5]), { maxPacketBytes: packet.length - 1 });

    expect(passed.output.equals(stream)).toBe(true);
    expect(dropped.output.equals(PINGRESP)).toBe(true);
    expect(dropped.drops).toEqual([{ topic: 't', bytes: packet.length, qos: 0 }]);
  });

  it('reports a dropped QoS 0 PUBLISH without a packet id and a QoS 1 or 2 one with it', async () => {
    const outcome = await run([
      publishOfSize(LIMIT + 10, { topic: 'q0', qos: 0 }),
      publishOfSize(LIMIT + 10, { topic: 'q1', qos: 1, packetId: 0x1234 }),
      publishOfSize(LIMIT + 10, { topic: 'q2', qos: 2, packetId: 0xfffe }),
    ]);

    expect(outcome.output.length).toBe(0);
    expect(outcome.drops).toEqual([
      { topic: 'q0', bytes: LIMIT + 10, qos: 0 },
      { topic: 'q1', bytes: LIMIT + 10, qos: 1, packetId: 0x1234 },
      { topic: 'q2', bytes: LIMIT + 10, qos: 2, packetId: 0xfffe },
    ]);
  });

  it('reports a drop only once its last byte is skipped, keeping no more than its variable header', async () => {
    const big = publishOfSize(5 * 1024 * 1024, { topic: 'big', qos: 1, packetId: 5 });
    const drops: DroppedPublish[] = [];
    const sut = new PacketSizeFilter({
      maxPacketBytes: LIMIT,
      onDroppedPublish: (d) => drops.push(d),
    });
    const output: Buffer[] = [];
    sut.on('data', (chunk: Buffer) => output.push(chunk));

    for (const chunk of cut(big, [3, 64 * 1024, 128 * 1024, big.length - 1])) {
      expect(drops).toEqual([]);
      sut.write(chunk);
    }

    expect(drops).toEqual([{ topic: 'big', bytes: big.length, qos: 1, packetId: 5 }]);
    expect(output).toEqual([]);
    sut.end(PINGRESP);
    await new Promise((resolve) => sut.once('end', resolve));
    expect(Buffer.concat(output).equals(PINGRESP)).toBe(true);
  });

  it('fails the stream on an oversized packet that is not a PUBLISH, after passing what came before', async () => {
    const suback = mqttPacket(0x90, Buffer.alloc(LIMIT));

    const outcome = await run([Buffer.concat([small, suback, small])]);

    expect(outcome.error).toBeInstanceOf(MqttPacketError);
    expect(outcome.error).toMatchObject({
      code: MqttPacketErrorCode.TooLarge,
      packetBytes: suback.length,
    });
    expect(outcome.output.equals(small)).toBe(true);
  });

  it('without a drop handler (a broker), fails the stream at the header of an oversized PUBLISH', async () => {
    const outcome = await run([Buffer.concat([small, oversized.subarray(0, 4)])], {
      dropPublish: false,
    });

    expect(outcome.error).toMatchObject({
      code: MqttPacketErrorCode.TooLarge,
      packetBytes: LIMIT + 1,
      message: expect.stringContaining(`more than the limit of ${LIMIT}`),
    });
    expect(outcome.output.equals(small)).toBe(true);
  });

  it.each([
    ['a remaining length over 4 bytes', Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])],
    ['a PUBLISH with QoS 3', publishOfSize(LIMIT + 1, { topic: 't' }).fill(0x36, 0, 1)],
    [
      'a topic longer than its packet',
      Buffer.concat([Buffer.from([0x30, 0x80, 0x10, 0xff, 0xff]), Buffer.alloc(2048)]),
    ],
  ])('fails the stream on %s', async (_, bytes) => {
    const outcome = await run([bytes]);

    expect(outcome.error).toMatchObject({ code: MqttPacketErrorCode.Malformed });
  });

  it('whatever the packets and the chunking, passes the small ones intact and reports each oversized one', async () => {
    const packetArb = fc.oneof(
      fc.record({
        kind: fc.constant('publish' as const),
        size: fc.integer({ min: 8, max: 2 * LIMIT }),
        qos: fc.constantFrom(0 as const, 1 as const, 2 as const),
        packetId: fc.integer({ min: 1, max: 0xffff }),
        topic: fc.string({ minLength: 1, maxLength: 4 }),
      }),
      fc.record({
        kind: fc.constant('ack' as const),
        packetId: fc.integer({ min: 1, max: 0xffff }),
      }),
      fc.constant({ kind: 'ping' as const }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(packetArb, { maxLength: 12 }),
        fc.array(fc.nat({ max: 30 * LIMIT }), { maxLength: 20 }),
        async (specs, offsets) => {
          const packets = specs.map((spec) => {
            if (spec.kind === 'ping') return { bytes: PINGRESP };
            if (spec.kind === 'ack') return { bytes: ackPacket(0x40, spec.packetId) };
            const topic = `t/${spec.topic}`;
            // Some sizes cannot exist (the remaining-length field grows by a byte at 128,
            // 16384, …): take the packet of the generated payload size as it is.
            const overhead = 1 + 2 + Buffer.byteLength(topic) + (spec.qos > 0 ? 2 : 0) + 4;
            const bytes = publishPacket({
              topic,
              qos: spec.qos,
              packetId: spec.packetId,
              payload: Buffer.alloc(Math.max(0, spec.size - overhead), 0x61),
            });
            const size = bytes.length;
            const drop: DroppedPublish =
              spec.qos === 0
                ? { topic, bytes: size, qos: 0 }
                : { topic, bytes: size, qos: spec.qos, packetId: spec.packetId };
            return { bytes, drop: size > LIMIT ? drop : undefined };
          });
          const stream = Buffer.concat(packets.map((p) => p.bytes));

          const outcome = await run(cut(stream, offsets));

          const kept = packets.filter((p) => p.drop === undefined).map((p) => p.bytes);
          expect(outcome.output.equals(Buffer.concat(kept))).toBe(true);
          expect(outcome.drops).toEqual(packets.flatMap((p) => (p.drop ? [p.drop] : [])));
        },
      ),
      { numRuns: 200 },
    );
  });
});
