import { ChildProcess, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..', '..', '..');

/** dedup-worker running as its own process, from source, with its output captured. */
export class WorkerProcess {
  readonly lines: string[] = [];
  private waiters: Array<() => void> = [];
  private exited: Promise<number | null>;

  private constructor(private readonly child: ChildProcess) {
    for (const stream of [child.stdout, child.stderr]) {
      let buffered = '';
      stream?.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const parts = buffered.split('\n');
        buffered = parts.pop() ?? '';
        this.lines.push(...parts);
        for (const wake of [...this.waiters]) wake();
      });
    }
    this.exited = new Promise((done) => child.once('exit', (code) => done(code)));
  }

  static start(env: Record<string, string>, args: string[] = []): WorkerProcess {
    const child = spawn(
      process.execPath,
      ['-r', '@swc-node/register', join(ROOT, 'apps/dedup-worker/src/main.ts'), ...args],
      {
        cwd: ROOT,
        env: { ...process.env, NODE_ENV: 'test', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    return new WorkerProcess(child);
  }

  /** Resolves with the first output line matching `pattern` (already printed or to come). */
  async waitForLine(pattern: RegExp, timeoutMs = 15000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.find((l) => pattern.test(l));
      if (found) return found;
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new Error(
          `worker printed no line matching ${String(pattern)}; output:\n${this.lines.join('\n')}`,
        );
      }
      await new Promise<void>((wakeUp) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== wake);
          wakeUp();
        };
        const timer = setTimeout(wake, remaining);
        this.waiters.push(wake);
      });
    }
  }

  /** Sends a signal and waits for the process to exit. */
  async kill(signal: NodeJS.Signals): Promise<number | null> {
    this.child.kill(signal);
    return this.exited;
  }

  /** Waits for the process to exit on its own. */
  exit(): Promise<number | null> {
    return this.exited;
  }
}
