import type { InstanceStatus, RejectionReason } from '@app/contracts';
import type { CandidateRollout } from './envelope-verifier';

/** A version was accepted and staged for the next run. */
export interface ConfigAcceptedEvent {
  readonly version: number;
  readonly schemaDrift: boolean;
  /** `lkg` for the last-known-good file verified at start, `broker` for a message. */
  readonly source: 'broker' | 'lkg';
  /** Present when the version is a rollout's candidate for this instance. */
  readonly rollout?: CandidateRollout;
}

/** A message was rejected; the client keeps running on what it has. */
export interface ConfigRejectedEvent {
  readonly reason: RejectionReason;
  /** Present only when the signature verified. */
  readonly version?: number;
  /** Why, for logs; never a secret value or key. */
  readonly detail: string;
  readonly at: string;
}

/** A config passed rules 0-4 but waits for the signed schema it names (clients without their own schema). */
export interface ConfigPendingEvent {
  readonly version: number;
  readonly schemaHash: string;
}

/** A signed schema was verified and is now known (clients without their own schema). */
export interface SchemaAcceptedEvent {
  readonly schemaVersion: number;
  readonly schemaHash: string;
  /** Its secret paths (`writeOnly` strings): where opened secrets sit in a config built for it. */
  readonly secretPaths: readonly string[];
  /** `lkg` for the schema saved beside the last-known-good config, `broker` for a message. */
  readonly source: 'broker' | 'lkg';
}

/** A schema message was refused; no config is ever validated with it. Not a config rejection. */
export interface SchemaRejectedEvent {
  readonly reason: RejectionReason;
  /** Present only when the signature verified. */
  readonly schemaVersion?: number;
  readonly detail: string;
  readonly at: string;
}

/** A verified tombstone: the manager archived the service; the client keeps what it has. */
export interface ConfigArchivedEvent {
  /** The service's last version. */
  readonly version: number;
  /** As the manager wrote it, when it did. */
  readonly issuedAt?: string;
  readonly at: string;
}

/** The client became stale (no attestation for longer than its max staleness) or fresh again. */
export interface ConfigFreshnessEvent {
  readonly stale: boolean;
  /** When the applied version was last attested; absent before any. */
  readonly attestedAt?: string;
  readonly at: string;
}

/** Events of a ConfigClient and their payloads. */
export interface ConfigClientEvents {
  accepted: ConfigAcceptedEvent;
  rejected: ConfigRejectedEvent;
  /** Every health update (the payload published on the health topic). */
  status: InstanceStatus;
  pending: ConfigPendingEvent;
  schemaAccepted: SchemaAcceptedEvent;
  schemaRejected: SchemaRejectedEvent;
  archived: ConfigArchivedEvent;
  /** Once per change of staleness (docs/recovery.md). */
  freshness: ConfigFreshnessEvent;
}

/** A listener of event `K`. */
export type ConfigClientListener<K extends keyof ConfigClientEvents> = (
  event: ConfigClientEvents[K],
) => void;

/**
 * A minimal typed emitter. Unlike Node's EventEmitter, a throwing listener neither stops the
 * other listeners nor reaches the MQTT message handler: it is reported and skipped.
 */
export class TypedEmitter<Events extends object> {
  private readonly listeners = new Map<keyof Events, Set<(event: never) => void>>();

  constructor(private readonly onListenerError: (event: string, error: unknown) => void) {}

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof Events>(event: K, listener: (payload: Events[K]) => void): () => void {
    let set = this.listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener);
    return () => this.off(event, listener);
  }

  /** Removes a listener added with on(). */
  off<K extends keyof Events>(event: K, listener: (payload: Events[K]) => void): void {
    this.listeners.get(event)?.delete(listener);
  }

  /** Calls every listener of `event` with `payload`. */
  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) {
      try {
        (listener as (payload: Events[K]) => void)(payload);
      } catch (error) {
        this.onListenerError(String(event), error);
      }
    }
  }
}
