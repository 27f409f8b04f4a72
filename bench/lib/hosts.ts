// The bench's child processes: fleet hosts of ConfigClients (fleet-host.ts) and peer watchers
// (peer-watch-host.ts), forked from source, killed if the bench itself dies, stopped with a
// report of what they measured.
import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '@app/testing';

/** The apps the bench starts as processes. */
export type BenchApp = 'config-manager' | 'dedup-worker';

/** Node's arguments that run `app` from source (apps/<app>/src/main.ts through @swc-node/register). */
export function sourceEntry(app: BenchApp): string[] {
  return ['-r', '@swc-node/register', join(REPO_ROOT, 'apps', app, 'src', 'main.ts')];
}

/** How the bench starts an app process: its arguments to node, and what they run. */
export interface AppEntry {
  readonly args: string[];
  /** Whether that is the build's bundle (dist/bundle, `npm run build`), as `npm start` runs it. */
  readonly built: boolean;
  /** For the report's notes. */
  readonly describe: string;
}

/**
 * The build's bundle of `app` (dist/bundle/<app>.js, what `npm start` and the images run) when
 * it is built, else apps/<app>/src/main.ts from source through @swc-node/register.
 */
export function appEntry(app: BenchApp): AppEntry {
  const launcher = join(REPO_ROOT, 'dist', 'bundle', `${app}.js`);
  if (existsSync(launcher)) {
    return {
      args: [launcher],
      built: true,
      describe: `${app} from its build (dist/bundle/${app}.js, with its code cache)`,
    };
  }
  return {
    args: sourceEntry(app),
    built: false,
    describe: `${app} from source through @swc-node/register (\`npm run build\` for dist/bundle)`,
  };
}

/** How long a host may take to start its clients or watchers. */
export const HOST_READY_TIMEOUT_MS = 180000;
const STOP_TIMEOUT_MS = 20000;

/** `--cpu-prof` into BENCH_PROFILE (a directory) when it is set. */
export function cpuProfileArgs(): string[] {
  const dir = process.env.BENCH_PROFILE;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
}

// Every process the bench forks, killed if the bench itself dies.
const children = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Forks `bench/lib/<script>` from source with `env` added. */
export function forkHost(
  script: string,
  env: Record<string, string>,
  execArgv: string[] = [],
): ChildProcess {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const child of children) child.kill('SIGKILL');
    });
  }
  const child = fork(join(__dirname, script), [], {
    execArgv: [...execArgv, '-r', '@swc-node/register'],
    env: { ...process.env, ...env },
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** The first message `accept` takes, or a clear error on exit or timeout. */
export function nextMessage<T>(
  child: ChildProcess,
  accept: (message: unknown) => T | undefined,
  timeoutMs: number,
  what: string,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (message: unknown) => {
      const value = accept(message);
      if (value === undefined) return;
      done();
      resolve(value);
    };
    const onExit = (code: number | null) => {
      done();
      reject(new Error(`${what}: the process exited (code ${code}) first`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`${what}: nothing within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Waits for a host's `ready` message. */
export function hostReady(child: ChildProcess, what: string): Promise<true> {
  return nextMessage(child, (m) => (m === 'ready' ? true : undefined), HOST_READY_TIMEOUT_MS, what);
}

/** Asks a host to stop and returns its last report; kills it if it does not exit in time. */
export async function stopHost<T>(
  child: ChildProcess,
  accept: (m: unknown) => T | undefined,
): Promise<T | undefined> {
  if (child.exitCode !== null || child.signalCode !== null) return undefined;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const report = nextMessage(child, accept, STOP_TIMEOUT_MS, 'stopping a host').catch(
    () => undefined,
  );
  child.send('stop');
  const killer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  const result = await report;
  await exited;
  clearTimeout(killer);
  return result;
}

/** What fleet-host.ts reports when it stops: CPU since ready and the versions applied since. */
export interface FleetReport {
  cpuMs: number;
  userMs: number;
  systemMs: number;
  applies: number;
}

/**
 * Starts `count` simulated workers `bench-<first>`… in fleet-host processes of at most
 * `perProcess`, one after another, each ready before the next; `base` is the rest of their
 * FLEET_CONFIG. With `profile`, each host writes a CPU profile into BENCH_PROFILE.
 */
export async function startFleet(
  first: number,
  count: number,
  base: Record<string, string | boolean>,
  { perProcess, profile = false }: { perProcess: number; profile?: boolean },
): Promise<ChildProcess[]> {
  const hosts: ChildProcess[] = [];
  for (let offset = 0; offset < count; offset += perProcess) {
    const host = forkHost(
      'fleet-host.ts',
      {
        FLEET_CONFIG: JSON.stringify({
          ...base,
          first: first + offset,
          count: Math.min(perProcess, count - offset),
        }),
      },
      profile ? cpuProfileArgs() : [],
    );
    hosts.push(host);
    await hostReady(host, `fleet host of workers bench-${first + offset}…`);
  }
  return hosts;
}

/** Stops the hosts and sums their reports. */
export async function stopFleet(hosts: readonly ChildProcess[]): Promise<FleetReport> {
  const reports = await Promise.all(
    hosts.map((host) =>
      stopHost(host, (m) =>
        typeof m === 'object' && m !== null && 'cpuMs' in m ? (m as FleetReport) : undefined,
      ),
    ),
  );
  return reports.reduce<FleetReport>(
    (sum, r) => ({
      cpuMs: sum.cpuMs + (r?.cpuMs ?? 0),
      userMs: sum.userMs + (r?.userMs ?? 0),
      systemMs: sum.systemMs + (r?.systemMs ?? 0),
      applies: sum.applies + (r?.applies ?? 0),
    }),
    { cpuMs: 0, userMs: 0, systemMs: 0, applies: 0 },
  );
}
