import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accepts, freePort } from '@app/testing';

/** The machine's shared mosquitto (CI makes sure it runs); tests isolate with a topic prefix. */
export const SHARED_MOSQUITTO_URL = process.env.TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';

/** A broker a test controls: it can be stopped and started again on the same port. */
export interface TestBroker {
  url: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** How a test's own mosquitto is configured. */
export interface MosquittoOptions {
  /** Lines appended to the default configuration (open, no persistence, no packet size limit). */
  extraConfig?: string[];
  /** Writes `dir`/mosquitto.conf itself instead (e.g. writeProductionMosquittoConfig). */
  configure?: (dir: string, port: number) => void;
}

/** A mosquitto process of the test's own on a free port, by default open and without persistence. */
export async function startMosquitto(
  options: MosquittoOptions = {},
): Promise<TestBroker & { destroy(): Promise<void> }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'cm-mosquitto-'));
  const conf = join(dir, 'mosquitto.conf');
  if (options.configure) {
    options.configure(dir, port);
  } else {
    const lines = [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false'];
    writeFileSync(conf, [...lines, ...(options.extraConfig ?? [])].join('\n') + '\n');
  }
  let child: ChildProcess | undefined;
  const handle = {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    start: async () => {
      child = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
      await waitForPort(port);
    },
    stop: async () => {
      const c = child;
      if (!c || c.exitCode !== null) return;
      const exited = new Promise((resolve) => c.once('exit', resolve));
      c.kill('SIGKILL');
      await exited;
      child = undefined;
    },
    destroy: async () => {
      await handle.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await handle.start();
  return handle;
}

async function waitForPort(port: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await accepts(port)) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
