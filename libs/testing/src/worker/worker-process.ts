import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../repo-root';
import { ChangeSignal } from '../waiting/change-signal';

/** A worker (dedup-worker unless told otherwise) running as its own process, from source, with its output captured. */
export class WorkerProcess {
  readonly lines: string[] = [];
  private readonly changes = new ChangeSignal();
  private readonly exited: Promise<number | null>;

  private constructor(private readonly child: ChildProcess) {
    for (const stream of [child.stdout, child.stderr]) {
      let buffered = '';
      stream?.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const parts = buffered.split('\n');
        buffered = parts.pop() ?? '';
        this.lines.push(...parts);
        this.changes.notify();
      });
    }
    this.exited = new Promise((done) => child.once('exit', (code) => done(code)));
  }

  /** Starts apps/dedup-worker/src/main.ts with `env` on top of this process's (NODE_ENV=test). */
  static start(env: Record<string, string>, args: string[] = []): WorkerProcess {
    return WorkerProcess.script('apps/dedup-worker/src/main.ts', env, args);
  }

  /** Starts any TypeScript entry point of the repository (`examples/node-worker/worker.ts`) the same way. */
  static script(path: string, env: Record<string, string>, args: string[] = []): WorkerProcess {
    const child = spawn(
      process.execPath,
      ['-r', '@swc-node/register', join(REPO_ROOT, path), ...args],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, NODE_ENV: 'test', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    return new WorkerProcess(child);
  }

  /**
   * Starts a plain JavaScript file with Node from `cwd` (a project outside the repository, as a
   * team's would be) with only `env` and PATH: nothing of this process's environment, such as a
   * NODE_PATH or NODE_OPTIONS that would let it load modules from the repository.
   */
  static node(script: string, cwd: string, env: Record<string, string>): WorkerProcess {
    const child = spawn(process.execPath, [script], {
      cwd,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new WorkerProcess(child);
  }

  /**
   * Starts any other program (a worker in another language: `/usr/bin/python3 worker.py`) with
   * only `env` and PATH, from the repository root unless `cwd` says otherwise.
   */
  static command(
    executable: string,
    args: string[],
    env: Record<string, string>,
    cwd: string = REPO_ROOT,
  ): WorkerProcess {
    const child = spawn(executable, args, {
      cwd,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new WorkerProcess(child);
  }

  /** Resolves with the first output line matching `pattern` (already printed or to come). */
  async waitForLine(pattern: RegExp, timeoutMs = 15000): Promise<string> {
    return this.changes.until(
      () => this.lines.find((l) => pattern.test(l)),
      timeoutMs,
      () => `worker printed no line matching ${String(pattern)}; output:\n${this.lines.join('\n')}`,
    );
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
