import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accepts, freePort } from '../net/ports';
import { pause } from '../waiting/polling';

/** The machine's shared mosquitto (CI makes sure it runs); tests isolate with a topic prefix. */
export const SHARED_MOSQUITTO_URL = process.env.TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';

/** How many recent output lines a broker keeps in memory (all of them go to `logFile`). */
const KEPT_LINES = 400;

/** How a mosquitto of one's own is configured and watched. */
export interface MosquittoOptions {
  /** Its directory, which must exist (default: a fresh temp dir, which destroy() removes). */
  dir?: string;
  /** Lines appended to the default configuration (open, no persistence, no packet size limit). */
  extraConfig?: string[];
  /** Writes `dir`/mosquitto.conf itself instead (e.g. writeProductionMosquittoConfig). */
  configure?: (dir: string, port: number) => void;
  /** Appends the broker's output to this file as well, across restarts. */
  logFile?: string;
  /** How long start() waits for the listener (default 10 s). */
  startTimeoutMs?: number;
}

/**
 * A mosquitto process of a test's (or a harness's) own on a free loopback port, by default open
 * and without persistence. It can be killed or stopped and started again on the same port, and
 * keeps its last output lines for failure messages.
 */
export class Mosquitto {
  private readonly recent: string[] = [];
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly ownsDir: boolean,
    private readonly options: MosquittoOptions,
  ) {}

  /** Configures a broker on a free port and starts it; on failure nothing is left behind. */
  static async start(options: MosquittoOptions = {}): Promise<Mosquitto> {
    const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'mosquitto-'));
    const broker = new Mosquitto(dir, await freePort(), options.dir === undefined, options);
    try {
      broker.configure();
      await broker.start();
    } catch (error) {
      await broker.destroy();
      throw error;
    }
    return broker;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** Whether its process runs. */
  get running(): boolean {
    return this.child !== undefined;
  }

  /** The last lines it printed. */
  tail(lines = 30): string {
    return this.recent.slice(-lines).join('\n');
  }

  /** Starts the process (unless it runs) and waits until its listener accepts connections. */
  async start(): Promise<void> {
    if (this.child) return;
    const { logFile } = this.options;
    if (logFile) appendFileSync(logFile, `--- ${new Date().toISOString()} start mosquitto\n`);
    const child = spawn('mosquitto', ['-c', join(this.dir, 'mosquitto.conf')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.exited = new Promise((resolve) => {
      const gone = (): void => {
        if (this.child === child) this.child = undefined;
        resolve();
      };
      child.once('exit', gone);
      // A failed spawn (no such binary) emits 'error' and never 'exit'.
      child.once('error', (error) => {
        this.record(`spawn failed: ${error.message}`);
        gone();
      });
    });
    for (const stream of [child.stdout, child.stderr]) {
      let buffered = '';
      stream.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) this.record(line);
      });
    }
    // Ready once the listener accepts connections (its stdout is block-buffered on a pipe, so
    // the log cannot tell); a failed start shows up as an exit.
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 10_000);
    for (;;) {
      if (this.child !== child) throw new Error(`mosquitto exited:\n${this.tail()}`);
      if (await accepts(this.port)) return;
      if (Date.now() > deadline) {
        this.abort();
        throw new Error(`mosquitto did not listen on ${this.port}:\n${this.tail()}`);
      }
      await pause(25);
    }
  }

  /** Sends `signal` (SIGKILL: an outage, no persistence save, no wills) and waits for the exit. */
  async kill(signal: NodeJS.Signals): Promise<void> {
    this.child?.kill(signal);
    await this.exited;
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** SIGKILL without waiting, for exit handlers where nothing asynchronous completes. */
  abort(): void {
    this.child?.kill('SIGKILL');
  }

  /** Stops it and removes its directory if it made it. */
  async destroy(): Promise<void> {
    await this.stop();
    if (this.ownsDir) rmSync(this.dir, { recursive: true, force: true });
  }

  private configure(): void {
    if (this.options.configure) {
      this.options.configure(this.dir, this.port);
      return;
    }
    const lines = [`listener ${this.port} 127.0.0.1`, 'allow_anonymous true', 'persistence false'];
    writeFileSync(
      join(this.dir, 'mosquitto.conf'),
      [...lines, ...(this.options.extraConfig ?? [])].join('\n') + '\n',
    );
  }

  private record(line: string): void {
    this.recent.push(line);
    if (this.recent.length > KEPT_LINES) this.recent.shift();
    if (!this.options.logFile) return;
    try {
      appendFileSync(this.options.logFile, `${line}\n`);
    } catch {
      // Output still draining after cleanup removed the directory.
    }
  }
}
