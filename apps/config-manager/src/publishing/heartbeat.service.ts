import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import type { Settings } from '../settings/settings';
import { SETTINGS } from '../settings/settings.module';
import { ConfigPublisherService } from './config-publisher.service';

/** Something else re-signed on each heartbeat (the rollout driver: its active candidates). */
export type HeartbeatListener = () => Promise<void>;

/**
 * The heartbeat (docs/recovery.md, "Freshness"): every CONFIG_HEARTBEAT_SECONDS the current
 * version of every active service is re-signed with a new `issuedAt` and `expiresAt` and
 * republished retained, so the retained message never expires and a worker can tell that its
 * config is still being attested. Listeners re-sign what else is retained (rollout candidates).
 * One beat at a time: a beat that is still running when the next is due skips that one.
 */
@Injectable()
export class HeartbeatService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(HeartbeatService.name);
  private readonly listeners: HeartbeatListener[] = [];
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;

  constructor(
    @Inject(SETTINGS) private readonly settings: Settings,
    private readonly publisher: ConfigPublisherService,
  ) {}

  /** Adds work to every beat (called at module init). */
  onBeat(listener: HeartbeatListener): void {
    this.listeners.push(listener);
  }

  onApplicationBootstrap(): void {
    if (this.settings.heartbeatMs === 0) return;
    this.timer = setInterval(() => void this.beat(), this.settings.heartbeatMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.beating;
  }

  /** One heartbeat: the configs, then every listener; failures are logged, the next beat retries. */
  beat(): Promise<void> {
    if (this.beating) return this.beating;
    this.beating = (async () => {
      for (const work of [() => this.publisher.attestAll(), ...this.listeners]) {
        try {
          await work();
        } catch (error) {
          this.logger.warn(
            `Heartbeat failed: ${error instanceof Error ? error.message : String(error)}; the next one retries`,
          );
        }
      }
    })().finally(() => {
      this.beating = undefined;
    });
    return this.beating;
  }
}
