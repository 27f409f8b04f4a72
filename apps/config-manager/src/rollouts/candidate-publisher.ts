import { Injectable } from '@nestjs/common';
import { candidateTopic, MAX_ENVELOPE_BYTES } from '@app/contracts';
import { ConfigRepository } from '../configs/config-repository';
import type { ConfigState } from '../configs/config-state';
import { ServiceCatalog } from '../configs/service-catalog';
import { DatabaseService } from '../database/database.service';
import { BrokerConnectionService } from '../messaging/broker-connection.service';
import { EnvelopeBuilderService } from '../publishing/envelope-builder.service';
import { SecretsService, type StagedSecrets } from '../secrets/secrets.service';
import { publishedStep, type RolloutRecord } from './rollout-record';

/** How a candidate publish went. */
export type CandidateOutcome = 'published' | 'not-acknowledged' | 'oversized' | 'nothing';

/** The candidate's content, read once per rollout. */
interface Candidate {
  state: ConfigState;
  staged: StagedSecrets;
}

/**
 * Publishes a rollout's candidate on `system/candidate/<service>`, retained with QoS 1, in the
 * signed envelope of any version plus `rollout: { id, step, stableVersion, instances }`, so the
 * broker cannot choose who runs it; and clears the topic (an empty retained message) once the
 * rollout ended.
 */
@Injectable()
export class CandidatePublisher {
  private readonly candidates = new Map<string, Candidate>();

  constructor(
    private readonly db: DatabaseService,
    private readonly connection: BrokerConnectionService,
    private readonly envelopes: EnvelopeBuilderService,
    private readonly configs: ConfigRepository,
    private readonly secrets: SecretsService,
    private readonly catalog: ServiceCatalog,
  ) {}

  /** Publishes the candidate of the latest started step (the cumulative cohort). */
  async publish(record: RolloutRecord): Promise<CandidateOutcome> {
    const step = publishedStep(record);
    if (!step) return 'nothing';
    const { state, staged } = await this.candidate(record);
    const bytes = this.envelopes.buildCandidate(
      state,
      {
        id: record.id,
        step: step.step,
        stableVersion: record.stableVersion,
        instances: step.instances,
      },
      staged,
    );
    if (bytes.length > MAX_ENVELOPE_BYTES) return 'oversized';
    const ok = await this.connection.publish(this.topic(record.service), bytes, true);
    return ok ? 'published' : 'not-acknowledged';
  }

  /** Clears a service's candidate topic; false if the broker did not acknowledge it. */
  async clear(service: string): Promise<boolean> {
    return this.connection.publish(this.topic(service), Buffer.alloc(0), true);
  }

  /** Forgets a finished rollout's content. */
  forget(rolloutId: string): void {
    this.candidates.delete(rolloutId);
  }

  private topic(service: string): string {
    return this.connection.topic(candidateTopic(service));
  }

  private async candidate(record: RolloutRecord): Promise<Candidate> {
    const known = this.candidates.get(record.id);
    if (known) return known;
    const loaded = await this.db.read(async (m) => {
      const version = await this.configs.findVersion(m, record.service, record.version);
      if (!version) throw new Error(`${record.service} has no version ${record.version}`);
      return { version, staged: await this.secrets.staged(m, record.service, record.version) };
    });
    const { version, staged } = loaded;
    const candidate: Candidate = {
      state: {
        service: record.service,
        version: version.version,
        kind: version.kind,
        updatedAt: version.createdAt,
        updatedBy: version.createdBy,
        schemaHash: version.schemaHash ?? this.catalog.definition(record.service).schemaHash,
        config: version.config,
        secrets: version.secrets,
      },
      staged,
    };
    this.candidates.set(record.id, candidate);
    return candidate;
  }
}
