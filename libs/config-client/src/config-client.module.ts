import {
  type BeforeApplicationShutdown,
  type DynamicModule,
  Logger,
  Module,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { ConfigClient } from './config-client';
import type { ConfigClientOptions } from './config-client.options';

/** Options, or a function that builds them when the module is instantiated (not at import time). */
export type ConfigClientModuleOptions = ConfigClientOptions | (() => ConfigClientOptions);

/**
 * Provides one started ConfigClient (inject it by its class) to the whole application: started
 * at bootstrap, before the modules that import it run theirs (global modules go first), and
 * stopped before shutdown. Logs through Nest's Logger unless the options name a logger.
 */
@Module({})
export class ConfigClientModule implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(private readonly client: ConfigClient) {}

  /** The global module around a ConfigClient built from `options`. */
  static forRoot(options: ConfigClientModuleOptions): DynamicModule {
    return {
      module: ConfigClientModule,
      global: true,
      providers: [
        {
          provide: ConfigClient,
          useFactory: (): ConfigClient => {
            const resolved = typeof options === 'function' ? options() : options;
            return new ConfigClient({
              ...resolved,
              logger: resolved.logger ?? new Logger(ConfigClient.name),
            });
          },
        },
      ],
      exports: [ConfigClient],
    };
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.client.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.client.stop();
  }
}
