import { Injectable, Logger } from '@nestjs/common';
import type { ConfigState } from './config-state';

/** Injection token of an optional hook that runs right after a write commits, before its publish. */
export const AFTER_COMMIT = Symbol('AFTER_COMMIT');

/** Something to do between a write's commit and its publish (only a test hook needs it). */
export interface AfterCommit {
  afterCommit(state: ConfigState): void;
}

/**
 * The chaos harness's hook (chaos/, scenario 2; CHAOS_EXIT_AFTER_COMMIT=1, refused in
 * production): the process SIGKILLs itself between the commit and the publish, so only the
 * outbox (republish on connect, the sweep) can deliver the version. Registered only when the
 * variable is set, so no production code path contains it.
 */
@Injectable()
export class ChaosExitAfterCommit implements AfterCommit {
  private readonly logger = new Logger(ChaosExitAfterCommit.name);

  afterCommit(state: ConfigState): void {
    this.logger.warn(
      `CHAOS_EXIT_AFTER_COMMIT: killed after committing ${state.service} v${state.version}`,
    );
    process.kill(process.pid, 'SIGKILL');
  }
}
