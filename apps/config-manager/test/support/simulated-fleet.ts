import {
  type CandidatePayload,
  type InstanceStatus,
  REJECTION_REASONS,
  type SignedEnvelope,
} from '@app/contracts';
import { MqttProbe, type ProbeMessage, readEnvelope } from '@app/testing';

/** What a simulated worker says about itself, beyond its identity. */
export type Report = Partial<Omit<InstanceStatus, 'service' | 'instanceId'>>;

/**
 * Worker instances as the manager sees them on the wire, without the SDK: each publishes its
 * retained health (as InstanceStatus says a worker does) with the labels, applied version and
 * run outcomes a test chooses, so the rollout state machine can be driven step by step.
 */
export class SimulatedFleet {
  private readonly state = new Map<string, InstanceStatus>();

  private constructor(
    private readonly probe: MqttProbe,
    private readonly service: string,
  ) {}

  /** Connects one client that publishes for every simulated instance of `service`. */
  static async connect(url: string, service: string): Promise<SimulatedFleet> {
    return new SimulatedFleet(await MqttProbe.connect(url), service);
  }

  /** Publishes an instance's status: its last one with `report` over it. */
  async report(instanceId: string, report: Report = {}): Promise<void> {
    const before = this.state.get(instanceId) ?? {
      service: this.service,
      instanceId,
      status: 'online',
      appliedVersion: 1,
      stagedVersion: 1,
      lastRunVersion: 1,
      schemaDrift: false,
      source: 'broker',
      rejections: Object.fromEntries(
        REJECTION_REASONS.map((r) => [r, 0]),
      ) as InstanceStatus['rejections'],
      at: '',
    };
    const status: InstanceStatus = { ...before, ...report, at: new Date().toISOString() };
    this.state.set(instanceId, status);
    await this.probe.publish(
      `system/health/${this.service}/${instanceId}`,
      JSON.stringify(status),
      true,
    );
  }

  /** An instance that applied `version` (and staged it for its next run). */
  async applied(instanceId: string, version: number): Promise<void> {
    await this.report(instanceId, { appliedVersion: version, stagedVersion: version });
  }

  /** An instance that finished runs on `version`. */
  async ran(instanceId: string, version: number, completed: number, failed = 0): Promise<void> {
    await this.report(instanceId, {
      lastRunVersion: version,
      runs: { version, completed, failed },
      lastRun: { version, ok: failed === 0, at: new Date().toISOString() },
    });
  }

  /** Removes every retained status this fleet left. */
  async close(): Promise<void> {
    for (const id of this.state.keys()) {
      await this.probe.publish(`system/health/${this.service}/${id}`, Buffer.alloc(0), true);
    }
    await this.probe.close();
  }
}

/** The candidate payload of a message on `system/candidate/<service>`, or undefined for a clear. */
export function candidateOf(message: ProbeMessage): CandidatePayload | undefined {
  if (message.payload.length === 0) return undefined;
  return readEnvelope(message.payload).payload as CandidatePayload;
}

/** The envelope (to verify its signature) of a candidate message. */
export function envelopeOf(message: ProbeMessage): SignedEnvelope {
  return readEnvelope(message.payload).envelope;
}
