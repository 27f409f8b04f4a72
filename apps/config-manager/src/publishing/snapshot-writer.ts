import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { ConfigCacheService } from '../configs/config-cache.service';
import { ServiceCatalog } from '../configs/service-catalog';
import { SecretsService } from '../secrets/secrets.service';
import type { SnapshotBody, SnapshotService } from '../snapshot/snapshot';
import { SnapshotFile } from '../snapshot/snapshot-file';

/**
 * Rewrites `DATA_DIR/snapshot.json` after publishes: every service's current state (what the
 * manager publishes), its current schema and its secrets as stored. A burst of publishes (a
 * reconnect republishing every service) writes once, right after the burst; shutdown writes
 * whatever is pending. A failed write is logged and leaves the previous file whole.
 */
@Injectable()
export class SnapshotWriter implements OnApplicationShutdown {
  private readonly logger = new Logger(SnapshotWriter.name);
  private pending: NodeJS.Immediate | undefined;
  private failing = false;

  constructor(
    private readonly cache: ConfigCacheService,
    private readonly catalog: ServiceCatalog,
    private readonly secrets: SecretsService,
    private readonly file: SnapshotFile,
  ) {}

  /** A state was (or is being) published: the snapshot follows it. */
  schedule(): void {
    if (this.pending) return;
    this.pending = setImmediate(() => this.flush());
  }

  onApplicationShutdown(): void {
    if (this.pending) this.flush();
  }

  /** Writes the snapshot now. */
  flush(): void {
    clearImmediate(this.pending);
    this.pending = undefined;
    try {
      this.file.write(this.body());
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
