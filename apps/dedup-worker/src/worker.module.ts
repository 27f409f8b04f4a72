import { DynamicModule, Module } from '@nestjs/common';
import { ConfigClientModule, ConfigClientOptions } from '@app/config-client';
import { WorkerMetricsService } from './metrics/worker-metrics.service';
import { RunLoopService } from './runs/run-loop.service';
import { WORKER_SETTINGS } from './runs/worker-settings.token';
import type { WorkerSettings } from './runs/worker-settings';

/** dedup-worker: configuration through the SDK, de-duplication runs over INPUT_DIR. */
@Module({})
export class WorkerModule {
  static forRoot(options: ConfigClientOptions, settings: WorkerSettings): DynamicModule {
    return {
      module: WorkerModule,
      imports: [ConfigClientModule.forRoot(options)],
      providers: [
        { provide: WORKER_SETTINGS, useValue: settings },
        WorkerMetricsService,
        RunLoopService,
      ],
    };
  }
}
