import { Inject, Injectable } from '@nestjs/common';
import { readSignedEnvelope } from '@app/config-client';
import { MAX_ENVELOPE_BYTES } from '@app/contracts';
import { Ed25519Verifier } from '@app/crypto';
import type { Settings } from '../settings/settings';
import { SETTINGS } from '../settings/settings.module';

/** Which of a service's retained topics: its config (`system/config/…`) or its schema (`system/schema/…`). */
export type RetainedChannel = 'config' | 'schema';

/** Why the retained message on a config topic is not the manager's current envelope. */
export type RetainedProblem =
  | 'empty'
  | 'oversized'
  | 'malformed'
  | 'unsupported-alg'
  | 'unknown-key'
  | 'signature'
  | 'service'
  | 'stale';

/** What a message seen on `system/config/<service>` means for the manager. */
export type RetainedVerdict =
  /** The current version (ours or another replica's copy of it), or our own earlier publish echoing. */
  | { readonly kind: 'fine' }
  /** Signed by us, above what this manager holds: another replica wrote (or the store is behind). */
  | { readonly kind: 'newer'; readonly version: number }
  /** Not our current envelope, and nothing of ours is on its way to replace it: republish. */
  | { readonly kind: 'repair'; readonly problem: RetainedProblem; readonly version?: number };

/** One thing that went wrong on the bus, as /health/ready reports it. */
export interface RetainedIncident {
  readonly service: string;
  /** Set for the schema topic; absent for the config topic. */
  readonly channel?: 'schema';
  /** A problem the manager repaired by republishing, or `ahead`: the bus holds a newer signed version than the store. */
  readonly problem: RetainedProblem | 'ahead';
  /** The version (schema version on the schema topic) the message carried, when its signature verified. */
  readonly version?: number;
  /** The version the manager held (and, unless `ahead`, republished). */
  readonly currentVersion: number;
  readonly at: string;
}

// Enough to see what is going on; a flood of forgeries cannot grow the answer.
const MAX_INCIDENTS = 20;
// A publish whose echo has not come back by then is taken as lost (it cannot cover for a bad message).
const ECHO_TIMEOUT_MS = 10_000;

/**
 * Judges what the broker holds on each config topic against the manager's current version (and
 * on each schema topic against its current schema version). The
 * signature is verified before anything is believed: an unauthentic message never makes the
 * manager reload, only republish. A bad message that arrives while a publish of the current
 * version is still on its way (not yet echoed back) needs nothing: the broker orders messages on
 * a topic, so ours lands after it, which is also why one republish answers a burst of forgeries.
 */
@Injectable()
export class RetainedConfigWatch {
  private readonly verifiers: ReadonlyMap<string, Ed25519Verifier>;
  /** Versions published per service whose echo has not come back yet: when sent, and the bytes. */
  private readonly inFlight = new Map<string, Map<number, number>>();
  /**
   * The last envelope this manager published per topic, byte for byte: its echo (and anything
   * else identical to it) is authentic without verifying the signature again, which was most of
   * the CPU the manager spent on its own messages.
   */
  private readonly own = new Map<string, { version: number; bytes: Buffer }>();
  private readonly recent: RetainedIncident[] = [];
  private total = 0;

  constructor(@Inject(SETTINGS) settings: Settings) {
    const { keyId, publicKey, previous } = settings.signing;
    this.verifiers = new Map([
      [keyId, new Ed25519Verifier(publicKey)],
      ...previous.map((p): [string, Ed25519Verifier] => [p.kid, new Ed25519Verifier(p.publicKey)]),
    ]);
  }

  /**
   * A publish of `version` is about to go out, as `bytes` when given: its echo, byte for byte
   * what this manager just signed, is known without verifying the signature again.
   */
  publishing(
    service: string,
    version: number,
    channel: RetainedChannel = 'config',
    bytes?: Buffer,
  ): void {
    const key = keyOf(service, channel);
    const versions = this.inFlight.get(key) ?? new Map<number, number>();
    versions.set(version, Date.now());
    this.inFlight.set(key, versions);
    if (bytes) this.own.set(key, { version, bytes });
    else this.own.delete(key);
  }

  /** That publish was not acknowledged: no echo will come. */
  publishFailed(service: string, version: number, channel: RetainedChannel = 'config'): void {
    this.inFlight.get(keyOf(service, channel))?.delete(version);
  }

  /** A new connection: whatever was in flight on the old one is gone. */
  reconnected(): void {
    this.inFlight.clear();
  }

  /** The verdict on one message of `service`'s config topic, given the version the manager holds. */
  judge(
    service: string,
    bytes: Buffer,
    currentVersion: number,
    channel: RetainedChannel = 'config',
  ): RetainedVerdict {
    const key = keyOf(service, channel);
    if (bytes.length === 0) return this.bad(key, currentVersion, 'empty');
    const own = this.ownVersion(key, bytes);
    if (own !== undefined) return this.judgeVersion(key, own, currentVersion);
    const reading = readSignedEnvelope(bytes, this.verifiers, MAX_ENVELOPE_BYTES);
    if (!reading.ok) return this.bad(key, currentVersion, reading.reason);
    const version = channel === 'config' ? reading.payload.version : reading.payload.schemaVersion;
    // A config topic carries configs: our signed tombstone or schema there is out of place too.
    const wrongKind =
      channel === 'config'
        ? reading.payload.archived !== undefined || reading.payload.schema !== undefined
        : reading.payload.schema === undefined;
    if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1 || wrongKind) {
      return this.bad(key, currentVersion, 'malformed');
    }
    if (reading.payload.service !== service) {
      // Our signature on another service's config: a replay onto the wrong topic.
      return this.bad(key, currentVersion, 'service', version);
    }
    return this.judgeVersion(key, version, currentVersion);
  }

  private judgeVersion(key: string, version: number, currentVersion: number): RetainedVerdict {
    if (version > currentVersion) return { kind: 'newer', version };
    const echoed = this.echoed(key, version);
    if (version === currentVersion || echoed) return { kind: 'fine' };
    return this.bad(key, currentVersion, 'stale', version);
  }

  /**
   * The version of `service` a config-topic message carries when it is authentic: signed with
   * one of this manager's keys (current or previous), a config (not a tombstone or a schema) of
   * that service. Undefined for anything else. No state changes: evidence for a restore check.
   */
  authenticVersion(service: string, bytes: Buffer): number | undefined {
    if (bytes.length === 0) return undefined;
    const own = this.ownVersion(keyOf(service, 'config'), bytes);
    if (own !== undefined) return own;
    const reading = readSignedEnvelope(bytes, this.verifiers, MAX_ENVELOPE_BYTES);
    if (!reading.ok) return undefined;
    const { payload } = reading;
    if (payload.service !== service || payload.archived !== undefined) return undefined;
    if (payload.schema !== undefined) return undefined;
    const version = payload.version;
    return typeof version === 'number' && Number.isSafeInteger(version) && version >= 1
      ? version
      : undefined;
  }

  /** The verdict on a message the connection dropped unread because it was too large. */
  oversized(
    service: string,
    currentVersion: number,
    channel: RetainedChannel = 'config',
  ): RetainedVerdict {
    return this.bad(keyOf(service, channel), currentVersion, 'oversized');
  }

  /** Records an incident for /health/ready. */
  record(incident: Omit<RetainedIncident, 'at'>): void {
    this.total++;
    this.recent.unshift({ ...incident, at: new Date().toISOString() });
    this.recent.length = Math.min(this.recent.length, MAX_INCIDENTS);
  }

  /** How many incidents since start, and the most recent ones (newest first). */
  incidents(): { total: number; recent: readonly RetainedIncident[] } {
    return { total: this.total, recent: [...this.recent] };
  }

  // The version of our last publish on the topic when these are exactly its bytes.
  private ownVersion(key: string, bytes: Buffer): number | undefined {
    const own = this.own.get(key);
    return own?.bytes.equals(bytes) ? own.version : undefined;
  }

  // The echo of one of our publishes: it and everything older of ours has now been delivered.
  private echoed(key: string, version: number): boolean {
    const versions = this.inFlight.get(key);
    if (!versions?.has(version)) return false;
    for (const sent of versions.keys()) if (sent <= version) versions.delete(sent);
    return true;
  }

  private bad(
    key: string,
    currentVersion: number,
    problem: RetainedProblem,
    version?: number,
  ): RetainedVerdict {
    const since = Date.now() - ECHO_TIMEOUT_MS;
    const coming = [...(this.inFlight.get(key) ?? [])].some(
      ([sent, at]) => sent >= currentVersion && at >= since,
    );
    if (coming) return { kind: 'fine' };
    return version === undefined
      ? { kind: 'repair', problem }
      : { kind: 'repair', problem, version };
  }
}

function keyOf(service: string, channel: RetainedChannel): string {
  return channel === 'config' ? service : `${service}\u0000schema`;
}
