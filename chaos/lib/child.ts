import { ChildProcess, spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { until } from '@app/testing';
import type { Janitor } from './janitor';

/** How many recent output lines a child keeps in memory (older ones are only in its log file). */
const KEPT_LINES = 400;

export interface ChildOptions {
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Every output line is appended here, so a failed run can be investigated. */
  logFile: string;
  /** Receives each output line as it arrives. */
  onLine?: (line: string) => void;
}

/**
 * One OS process the harness started: its output goes to a log file (and the last lines stay in
 * memory), and the janitor kills it with SIGKILL if the harness ends while it still runs.
 */
export class Child {
  readonly exited: Promise<number | null>;
  private readonly recent: string[] = [];
  private readonly unregister: () => void;
  private done = false;

  private constructor(
    private readonly process: ChildProcess,
    private readonly options: ChildOptions,
    janitor: Janitor,
  ) {
    this.exited = new Promise((resolve) => {
      process.once('exit', (code) => {
        this.done = true;
        resolve(code);
      });
      // A failed spawn (no such binary) emits 'error' and never 'exit'.
      process.once('error', (error) => {
        this.record(`spawn failed: ${error.message}`);
        this.done = true;
        resolve(null);
      });
    });
    for (const stream of [process.stdout, process.stderr]) {
      let buffered = '';
      stream?.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) this.record(line);
      });
    }
    this.unregister = janitor.add(() => {
      if (!this.done) this.process.kill('SIGKILL');
    });
    void this.exited.then(() => this.unregister());
  }

  static start(options: ChildOptions, janitor: Janitor): Child {
    appendFileSync(options.logFile, `--- ${new Date().toISOString()} start ${options.command}\n`);
    const child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new Child(child, options, janitor);
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  /** Whether the process is still running. */
  get alive(): boolean {
    return !this.done;
  }

  /** The last output lines (for failure messages). */
  tail(lines = 30): string {
    return this.recent.slice(-lines).join('\n');
  }

  /** Sends `signal` and waits until the process has exited. */
  async kill(signal: NodeJS.Signals): Promise<number | null> {
    if (this.done) return this.exited;
    this.process.kill(signal);
    return this.exited;
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.done) return;
    this.process.kill('SIGTERM');
    const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  private record(line: string): void {
    this.recent.push(line);
    if (this.recent.length > KEPT_LINES) this.recent.shift();
    try {
      appendFileSync(this.options.logFile, `${line}\n`);
    } catch {
      // Output still draining after cleanup removed the stack's directory.
    }
    this.options.onLine?.(line);
  }
}

/**
 * Polls `url` until it answers 2xx; fails at once, with the last output, if the process exits
 * first (a manager or worker that cannot start says why instead of timing out).
 */
export async function untilHealthy(
  child: Child,
  name: string,
  url: string,
  timeoutMs: number,
): Promise<void> {
  await until(
    `${name} ${new URL(url).pathname}`,
    async () => {
      if (!child.alive) throw new Error(`${name} exited:\n${child.tail()}`);
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.body?.cancel();
      return res.ok || undefined;
    },
    { timeoutMs, intervalMs: 100 },
  );
}
