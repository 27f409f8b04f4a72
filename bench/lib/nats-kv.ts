// A NATS JetStream key-value bucket of the bench's own on the machine's nats-server (the peers
// suite compares our push with a KV watch): uniquely named per run, deleted afterwards.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { connect, type KV, type NatsConnection } from 'nats';

export const NATS_URL = process.env.BENCH_NATS_URL ?? 'nats://127.0.0.1:4222';
const CONNECT_TIMEOUT_MS = 3000;

/** A fresh bucket and the connection that created it (the writer's). */
export interface NatsBucket {
  url: string;
  bucket: string;
  kv: KV;
  connection: NatsConnection;
  /** The server's version as it announced itself. */
  serverVersion: string;
  /** The nats-server process, when this machine runs it and /proc shows it. */
  serverPid?: number;
  /** Deletes the bucket (its stream) and closes the connection. */
  destroy(): Promise<void>;
}

/** Connects and creates the bucket; undefined with the reason when the server is unreachable. */
export async function openNatsBucket(): Promise<NatsBucket | { skipped: string }> {
  let connection: NatsConnection;
  try {
    connection = await connect({ servers: NATS_URL, timeout: CONNECT_TIMEOUT_MS });
  } catch (error) {
    return {
      skipped: `NATS at ${NATS_URL} unreachable (${error instanceof Error ? error.message : String(error)}); set BENCH_NATS_URL to a nats-server started with -js; NATS rows skipped`,
    };
  }
  const bucket = `bench_peers_${randomBytes(4).toString('hex')}`;
  try {
    // history 1, file storage, one replica: the defaults of a KV bucket.
    const kv = await connection.jetstream().views.kv(bucket, { history: 1 });
    return {
      url: NATS_URL,
      bucket,
      kv,
      connection,
      serverVersion: connection.info?.version ?? 'unknown',
      serverPid: natsServerPid(),
      destroy: async () => {
        try {
          const manager = await connection.jetstreamManager();
          await manager.streams.delete(`KV_${bucket}`);
        } finally {
          await connection.close();
        }
      },
    };
  } catch (error) {
    await connection.close();
    return {
      skipped: `NATS at ${NATS_URL} has no usable JetStream (${error instanceof Error ? error.message : String(error)}); NATS rows skipped`,
    };
  }
}

function natsServerPid(): number | undefined {
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'nats-server')
          return Number(entry);
      } catch {
        // gone, or not ours to read
      }
    }
  } catch {
    // no /proc
  }
  return undefined;
}
