import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../net/ports';

const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

/**
 * A throwaway Postgres cluster (initdb in a temp dir, on a free port) that a test may stop and
 * start, leaving the machine's shared server alone. Postgres refuses to run as root, so the
 * commands run as the `postgres` user when the test runs as root.
 */
export class TempPostgres {
  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  static async create(): Promise<TempPostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'cm-pg-'));
    const pg = new TempPostgres(dir, await freePort());
    if (process.getuid?.() === 0) chownSync(dir, postgresUid(), postgresGid());
    pg.run('initdb', [
      '-D',
      join(dir, 'data'),
      '-A',
      'trust',
      '-U',
      'postgres',
      '--no-sync',
      '-E',
      'UTF8',
    ]);
    pg.start();
    return pg;
  }

  start(): void {
    this.run('pg_ctl', [
      '-D',
      join(this.dir, 'data'),
      '-l',
      join(this.dir, 'log'),
      '-o',
      `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      '-w',
      'start',
    ]);
  }

  stop(): void {
    this.run('pg_ctl', ['-D', join(this.dir, 'data'), '-m', 'fast', '-w', 'stop']);
  }

  destroy(): void {
    try {
      this.stop();
    } catch {
      // already stopped
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private run(command: string, args: string[]): void {
    const binary = join(PG_BIN, command);
    if (process.getuid?.() === 0) {
      execFileSync('runuser', ['-u', 'postgres', '--', binary, ...args], { stdio: 'pipe' });
    } else {
      execFileSync(binary, args, { stdio: 'pipe' });
    }
  }
}

function postgresUid(): number {
  return Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
}

function postgresGid(): number {
  return Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
}
