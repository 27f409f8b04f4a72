import { Injectable } from '@nestjs/common';
import { deepFreeze } from '@app/contracts';
import type { ConfigState } from './config-state';

/**
 * Current state of every service, kept in memory so reads never touch the database (and keep
 * answering while it is down). Replaced after each committed write.
 */
@Injectable()
export class ConfigCacheService {
  private readonly states = new Map<string, ConfigState>();
  private readonly announced = new Map<string, number>();

  get(service: string): ConfigState | undefined {
    return this.states.get(service);
  }

  all(): ConfigState[] {
    return [...this.states.values()].sort((a, b) => a.service.localeCompare(b.service));
  }

  /** Stores a newer state; an older one (a slower concurrent writer) never overwrites a newer one. */
  set(state: ConfigState): void {
    const known = this.states.get(state.service);
    if (!known || known.version <= state.version) {
      this.states.set(state.service, deepFreeze(state));
    }
  }

  /**
   * Puts the store's state in place whatever is held: after a cold start the snapshot's state
   * may be ahead of a restored store, and the store is the truth once it is back.
   */
  replace(state: ConfigState): void {
    this.states.set(state.service, deepFreeze(state));
  }

  /** The bus showed an authentic version of `service` (signed with our key) that may not be loaded yet. */
  announce(service: string, version: number): void {
    if (version > (this.announced.get(service) ?? 0)) this.announced.set(service, version);
  }

  /**
   * The highest version of a service known to exist: the current one, or a newer one the bus
   * announced (another replica wrote it and this manager is still loading it). Undefined for a
   * service this manager does not know.
   */
  highestKnownVersion(service: string): number | undefined {
    const current = this.states.get(service)?.version;
    if (current === undefined) return undefined;
    return Math.max(current, this.announced.get(service) ?? 0);
  }
}
