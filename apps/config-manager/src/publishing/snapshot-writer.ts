import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { ConfigCacheService } from '../configs/config-cache.service';
import { ServiceCatalog } from '../configs/service-catalog';
import { SecretsService } from '../secrets/secrets.service';
import type { SnapshotBody, SnapshotService } from '../snapshot/snapshot';
import { SnapshotFile } from '../snapshot/snapshot-file';

/**
 * How long after a publish the snapshot is rewritten: the publishes in that window (a burst of
 * PATCHes, a reconnect republishing every service) write one file. The file is for a cold start
 * without the database, so being this far behind costs nothing; an fsynced rewrite per PATCH
 * cost more CPU than the rest of the write (issue 18's profile).
 */
export const SNAPSHOT_DELAY_MS = 200;

/**
 * Rewrites `DATA_DIR/snapshot.json` after publishes: every service's current state (what the
 * manager publishes), its current schema and its secrets as stored. Publishes within
 * SNAPSHOT_DELAY_MS write once; a publish that changed nothing the file holds (a heartbeat
 * re-signing the same version) writes nothing; shutdown writes whatever is pending. A failed
 * write is logged and leaves the previous file whole.
 */
@Injectable()
export class SnapshotWriter implements OnApplicationShutdown {
  private readonly logger = new Logger(SnapshotWriter.name);
  private pending: NodeJS.Timeout | undefined;
  private failing = false;
  /** The services as last written (JSON): an unchanged state is not written again. */
  private written: string | undefined;
  /** The write under way (written on the thread pool, never holding the event loop). */
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly cache: ConfigCacheService,
    private readonly catalog: ServiceCatalog,
    private readonly secrets: SecretsService,
    private readonly file: SnapshotFile,
  ) {}

  /** A state was (or is being) published: the snapshot follows it. */
  schedule(): void {
    if (this.pending) return;
    this.pending = setTimeout(() => void this.flush(), SNAPSHOT_DELAY_MS);
    this.pending.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.pending) await this.flush();
    else await this.writing;
  }

  /** Writes the snapshot now (after a write already under way: one at a time, in order). */
  flush(): Promise<void> {
    clearTimeout(this.pending);
    this.pending = undefined;
    this.writing = this.writing.then(() => this.writeNow());
    return this.writing;
  }

  private async writeNow(): Promise<void> {
    try {
      const body = this.body();
      const services = JSON.stringify(body.services);
      if (services === this.written && !this.failing) return;
      await this.file.write(body);
      this.written = services;
      if (this.failing) this.logger.log(`${this.file.path} is written again.`);
      this.failing = false;
    } catch (error) {
      if (!this.failing) {
        this.logger.error(
          `Cannot write ${this.file.path} (${(error as Error).message}): a cold start without the ` +
            'database would serve an older snapshot. Check the free space and permissions of DATA_DIR.',
        );
      }
      this.failing = true;
    }
  }

  private body(): SnapshotBody {
    const services: SnapshotService[] = [];
    for (const entry of this.catalog.all()) {
      const name = entry.definition.name;
      const state = this.cache.get(name);
      if (!state) continue;
      services.push({
        name,
        description: entry.description,
        origin: entry.origin,
        schemaVersion: entry.schemaVersion,
        jsonSchema: entry.definition.jsonSchema as Record<string, unknown>,
        recipientKey: entry.recipientKey?.toString('base64') ?? null,
        archivedAt: entry.archivedAt,
        version: state.version,
        kind: state.kind,
        updatedAt: state.updatedAt,
        updatedBy: state.updatedBy,
        schemaHash: state.schemaHash,
        config: { ...state.config },
        secretStates: { ...state.secrets },
        secrets: this.secrets.storedRows(name),
      });
    }
    return { writtenAt: new Date().toISOString(), services };
  }
}
