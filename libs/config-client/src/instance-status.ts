import type { RejectionReason } from './envelope-verifier';

/** `online`: on a config the broker delivered or confirmed; `degraded`: on last-known-good or defaults; `offline`: stopped or gone (last will). */
export type InstanceStatusValue = 'online' | 'degraded' | 'offline';

/** Where a configuration came from. */
export type ConfigSource = 'broker' | 'lkg' | 'defaults';

/** The most recent rejected message. */
export interface LastRejection {
  /** Present only when the signature verified (an unverified version means nothing). */
  readonly version?: number;
  readonly reason: RejectionReason;
  readonly at: string;
}

/** The retained health payload on `system/health/<service>/<instanceId>`. */
export interface InstanceStatus {
  readonly service: string;
  readonly instanceId: string;
  readonly status: InstanceStatusValue;
  /** Newest accepted version (from the broker or the last-known-good file); 0 when none. */
  readonly appliedVersion: number;
  /** Version the next run will use (staged, or still active); 0 for the schema defaults. */
  readonly stagedVersion: number;
  /** Version the last run used; null before the first run. */
  readonly lastRunVersion: number | null;
  readonly lastRejection?: LastRejection;
  /** The applied version was built for a different schema than this worker's. */
  readonly schemaDrift: boolean;
  /** Where the applied version came from. */
  readonly source: ConfigSource;
  /** Rejected messages since start, by reason. */
  readonly rejections: Readonly<Record<RejectionReason, number>>;
  readonly at: string;
}
