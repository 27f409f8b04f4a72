import { pause, until } from '@app/testing';
import type { ManagerApi } from './api';
import { distanceChange } from './changes';

/** Pacing between two writes (not a synchronisation: the writer never waits for a state). */
const WRITE_INTERVAL_MS = 25;

/** A write the manager accepted. */
export interface AcceptedWrite {
  version: number;
  /** X-Config-Published: whether the broker acknowledged it before the answer. */
  published: boolean;
}

/**
 * One admin client PATCHing dedup-worker's config in a loop, a new value each time, until
 * stopped. Every answer is recorded, so a scenario can prove that all writes were accepted.
 */
export class PatchWriter {
  readonly accepted: AcceptedWrite[] = [];
  /** Every answer other than 200, and every request that got no answer. */
  readonly refused: string[] = [];
  private stopped = false;
  private readonly loop: Promise<void>;

  constructor(private readonly api: ManagerApi) {
    this.loop = this.writeUntilStopped();
  }

  /** The version of the last accepted write (0 before the first). */
  get latest(): number {
    return this.accepted.at(-1)?.version ?? 0;
  }

  /** Waits until `count` writes in all have been accepted. */
  async waitForAccepted(count: number, signal: AbortSignal, timeoutMs = 15_000): Promise<void> {
    await until(`${count} accepted writes`, () => this.accepted.length >= count || undefined, {
      signal,
      timeoutMs,
      intervalMs: 10,
      describe: () => `${this.accepted.length} accepted, refused: ${this.refused.join('; ')}`,
    });
  }

  /** Stops after the write in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  private async writeUntilStopped(): Promise<void> {
    while (!this.stopped) {
      try {
        const res = await this.api.patch(distanceChange(), { reason: 'chaos writer' });
        if (res.status === 200) {
          this.accepted.push({
            version: res.body.version,
            published: res.headers.get('x-config-published') === 'true',
          });
        } else {
          this.refused.push(`${res.status} ${JSON.stringify(res.body)}`);
        }
      } catch (error) {
        this.refused.push(`no answer: ${error instanceof Error ? error.message : String(error)}`);
      }
      await pause(WRITE_INTERVAL_MS);
    }
  }
}
