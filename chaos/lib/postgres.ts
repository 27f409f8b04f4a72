import { Client } from 'pg';
import { TempPostgres } from '@app/testing';
import type { Janitor } from './janitor';

/** The outbox columns of one service row (services.current_version / published_version). */
export interface OutboxRow {
  currentVersion: number;
  publishedVersion: number | null;
}

/**
 * The stack's own Postgres cluster: the tests' TempPostgres (initdb in a temp dir on a free
 * port, run as the `postgres` user when the harness runs as root), which knows whether it runs.
 */
export class Postgres {
  private up = true;

  private constructor(private readonly cluster: TempPostgres) {}

  static async create(janitor: Janitor): Promise<Postgres> {
    const cluster = await TempPostgres.create();
    janitor.add(() => cluster.destroy());
    return new Postgres(cluster);
  }

  get url(): string {
    return this.cluster.url;
  }

  get running(): boolean {
    return this.up;
  }

  /** Fast shutdown: open connections are closed at once, as when the database host goes away. */
  stop(): void {
    this.cluster.stop();
    this.up = false;
  }

  /** Starts the cluster and returns once it accepts connections. */
  start(): void {
    this.cluster.start();
    this.up = true;
  }

  /** The service's current and published (outbox mark) versions, read directly from the table. */
  async outbox(service: string): Promise<OutboxRow> {
    return this.query(async (client) => {
      const result = await client.query<{
        current_version: number;
        published_version: number | null;
      }>('SELECT current_version, published_version FROM services WHERE name = $1', [service]);
      const row = result.rows[0];
      if (!row) throw new Error(`no services row for ${service}`);
      return { currentVersion: row.current_version, publishedVersion: row.published_version };
    });
  }

  /** Every version number of the service in config_versions, ascending (repeats included). */
  async versions(service: string): Promise<number[]> {
    return this.query(async (client) => {
      const result = await client.query<{ version: number }>(
        'SELECT version FROM config_versions WHERE service = $1 ORDER BY version',
        [service],
      );
      return result.rows.map((r) => r.version);
    });
  }

  private async query<T>(work: (client: Client) => Promise<T>): Promise<T> {
    const client = new Client({ connectionString: this.url });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  }
}
