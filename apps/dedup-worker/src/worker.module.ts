import { DynamicModule, Module } from '@nestjs/common';
import { ConfigClientModule, ConfigClientOptions } from '@app/config-client';

/** dedup-worker: configuration through the SDK (its matching pipeline plugs in here). */
@Module({})
export class WorkerModule {
  static forRoot(options: ConfigClientOptions): DynamicModule {
    return {
      module: WorkerModule,
      imports: [ConfigClientModule.forRoot(options)],
    };
  }
}
