import { randomBytes } from 'node:crypto';
import { connectAsync } from 'mqtt';
import { defaultConfig, findServiceDefinition } from '@app/contracts';
import {
  Ed25519Signer,
  Ed25519Verifier,
  generateSigningKeyPair,
  naclSign,
  naclVerify,
} from '@app/crypto';
import type { SuiteResult } from '../lib/report';
import { summarize, timeEach } from '../lib/stats';
import { BENCH_TOKEN, startManagerProcess } from '../lib/manager-process';
import { startBenchMosquitto } from '../lib/mosquitto';

const CRYPTO_ROUNDS = Number(process.env.BENCH_CRYPTO_ROUNDS ?? 2000);
const PATCHES = Number(process.env.BENCH_PATCHES ?? 500);

/** Issue 3: sign/verify cost per envelope, and PATCH-to-received latency at a subscriber. */
export async function pushBench(): Promise<SuiteResult> {
  const definition = findServiceDefinition('dedup-worker');
  if (!definition) throw new Error('dedup-worker is not registered');
  const payload = Buffer.from(
    JSON.stringify({
      service: 'dedup-worker',
      version: 12,
      issuedAt: new Date().toISOString(),
      schemaHash: definition.schemaHash,
      config: defaultConfig(definition),
      secrets: {},
    }),
  );
  const keys = generateSigningKeyPair();
  const signer = new Ed25519Signer(keys.secretKey);
  const verifier = new Ed25519Verifier(keys.publicKey);
  const signature = signer.sign(payload);

  const sign = summarize(
    timeEach(CRYPTO_ROUNDS, () => signer.sign(payload)),
    4,
  );
  const verify = summarize(
    timeEach(CRYPTO_ROUNDS, () => verifier.verify(payload, signature)),
    4,
  );
  const naclSignT = summarize(
    timeEach(CRYPTO_ROUNDS / 4, () => naclSign(payload, keys.secretKey)),
    4,
  );
  const naclVerifyT = summarize(
    timeEach(CRYPTO_ROUNDS / 4, () => naclVerify(payload, signature, keys.publicKey)),
    4,
  );

  const embedded = await patchToReceived();
  const broker = await startBenchMosquitto();
  const mosquitto = await patchToReceived(broker.url).finally(() => broker.destroy());

  return {
    suite: 'signed retained push',
    issue: 'issue 3',
    figures: [
      { name: 'payload size (full MatchingConfig)', value: payload.length, unit: 'bytes' },
      {
        name: 'sign, Node built-in: median / p99',
        value: `${sign.median} / ${sign.p99}`,
        unit: 'ms',
      },
      {
        name: 'verify, Node built-in: median / p99',
        value: `${verify.median} / ${verify.p99}`,
        unit: 'ms',
        target: '< 0.2 ms median',
      },
      {
        name: 'sign, tweetnacl: median / p99',
        value: `${naclSignT.median} / ${naclSignT.p99}`,
        unit: 'ms',
      },
      {
        name: 'verify, tweetnacl: median / p99',
        value: `${naclVerifyT.median} / ${naclVerifyT.p99}`,
        unit: 'ms',
      },
      {
        name: 'verify speed-up, Node vs tweetnacl',
        value: (naclVerifyT.median / verify.median).toFixed(1),
        unit: '×',
      },
      {
        name: 'PATCH → received, embedded aedes: median / p99',
        value: `${embedded.median} / ${embedded.p99}`,
        unit: 'ms',
        target: '< 5 ms median',
      },
      {
        name: 'PATCH → received, mosquitto: median / p99',
        value: `${mosquitto.median} / ${mosquitto.p99}`,
        unit: 'ms',
        target: '< 5 ms median',
      },
    ],
    notes: [
      `crypto: ${CRYPTO_ROUNDS} rounds (tweetnacl ${CRYPTO_ROUNDS / 4}) after warm-up, one process`,
      `latency: ${PATCHES} sequential PATCHes, each timed from sending the request to a plain MQTT subscriber receiving that version; manager in its own process on SQLite`,
    ],
  };
}

async function patchToReceived(brokerUrl?: string): Promise<{ median: number; p99: number }> {
  const prefix = brokerUrl ? `bench${randomBytes(3).toString('hex')}/` : '';
  const manager = await startManagerProcess(
    brokerUrl ? { MQTT_URL: brokerUrl, MQTT_TOPIC_PREFIX: prefix } : {},
  );
  try {
    const ready = (await (await fetch(`${manager.url}/health/ready`)).json()) as {
      checks: { broker: { url: string } };
    };
    const subscriber = await connectAsync(brokerUrl ?? ready.checks.broker.url);
    const topic = `${prefix}system/config/dedup-worker`;
    let waiting: { version: number; resolve: () => void } | undefined;
    subscriber.on('message', (_, payload) => {
      const envelope = JSON.parse(payload.toString()) as { payload: string };
      const version = (
        JSON.parse(Buffer.from(envelope.payload, 'base64').toString()) as { version: number }
      ).version;
      if (waiting && version >= waiting.version) waiting.resolve();
    });
    await subscriber.subscribeAsync(topic, { qos: 1 });

    const samples: number[] = [];
    for (let i = 0; i < PATCHES; i++) {
      const version = i + 2;
      const received = new Promise<void>((resolve) => {
        waiting = { version, resolve };
      });
      const started = performance.now();
      const res = await fetch(`${manager.url}/api/services/dedup-worker/config`, {
        method: 'PATCH',
        headers: { Authorization: `Bearer ${BENCH_TOKEN}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ cluster: { max_cluster_size: 2 + (i % 50) + (i % 2 ? 50 : 0) } }),
      });
      await res.arrayBuffer();
      await received;
      samples.push(performance.now() - started);
    }
    await subscriber.endAsync();
    return summarize(samples);
  } finally {
    await manager.stop();
  }
}
