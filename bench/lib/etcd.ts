// An etcd server of the bench's own (the peers suite compares our push with etcd's watch): one
// member on free loopback ports in a temp data dir, stopped and removed afterwards.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@app/testing';

export const ETCD_BINARY = process.env.BENCH_ETCD_BINARY ?? '/usr/bin/etcd';
const START_TIMEOUT_MS = 20000;

/** A running single-member etcd. */
export interface EtcdServer {
  url: string;
  pid: number;
  /** Its version line (`etcd Version: 3.4.23`). */
  version: string;
  stop(): Promise<void>;
}

/** Why etcd rows are skipped, or undefined when the binary is there. */
export function etcdMissing(): string | undefined {
  return existsSync(ETCD_BINARY)
    ? undefined
    : `${ETCD_BINARY} not found: install it with \`apt-get install etcd-server\` (or set BENCH_ETCD_BINARY); etcd rows skipped`;
}

/** Starts etcd with its defaults (fsync on every commit) and waits until /health says true. */
export async function startEtcd(): Promise<EtcdServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'etcd-bench-'));
  const clientPort = await freePort();
  const peerPort = await freePort();
  const url = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const output: string[] = [];
  const child: ChildProcess = spawn(
    ETCD_BINARY,
    [
      '--name',
      'bench',
      '--data-dir',
      dataDir,
      '--listen-client-urls',
      url,
      '--advertise-client-urls',
      url,
      '--listen-peer-urls',
      peerUrl,
      '--initial-advertise-peer-urls',
      peerUrl,
      '--initial-cluster',
      `bench=${peerUrl}`,
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const keep = (chunk: Buffer) => {
    output.push(chunk.toString());
    if (output.length > 50) output.shift();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', (error) => {
      output.push(`spawn failed: ${error.message}`);
      resolve();
    });
  });
  // A crashed bench must not leave etcd running.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    try {
      const res = await fetch(`${url}/health`);
      const body = (await res.json()) as { health?: string };
      if (body.health === 'true') break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || child.exitCode !== null || child.pid === undefined) {
      await stop();
      throw new Error(
        `etcd did not become healthy on ${url} within ${START_TIMEOUT_MS} ms:\n${output.join('')}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const version = await new Promise<string>((resolve) => {
    const probe = spawn(ETCD_BINARY, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let text = '';
    probe.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    probe.once('close', () => resolve(text.split('\n')[0]?.trim() ?? 'etcd'));
    probe.once('error', () => resolve('etcd'));
  });
  return { url, pid: child.pid as number, version, stop };
}

/**
 * CPU time (user + system, ms) a process has used, from /proc/<pid>/stat; undefined when it
 * cannot be read. Resolution is one clock tick (10 ms on Linux's usual CLK_TCK of 100).
 */
export function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may hold spaces) start at state: utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}

/** How many established TCP connections (IPv4, from /proc/net/tcp) end at 127.0.0.1:`port`. */
export function connectionsTo(port: number): number {
  try {
    const hex = port.toString(16).toUpperCase().padStart(4, '0');
    return readFileSync('/proc/net/tcp', 'utf8')
      .split('\n')
      .slice(1)
      .filter((line) => {
        const columns = line.trim().split(/\s+/);
        return columns[2]?.endsWith(`:${hex}`) && columns[3] === '01';
      }).length;
  } catch {
    return 0;
  }
}
