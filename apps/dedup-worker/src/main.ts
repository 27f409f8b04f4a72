import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConfigClientError, configClientOptionsFromEnv } from '@app/config-client';
import { WorkerModule } from './worker.module';

const SERVICE = 'dedup-worker';

async function bootstrap(): Promise<void> {
  const options = configClientOptionsFromEnv(process.env, { service: SERVICE });
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(options));
  app.enableShutdownHooks();
  new Logger('Bootstrap').log(
    `${SERVICE} ${options.instanceId} started (last-known-good: ${options.lkgPath})`,
  );
}

bootstrap().catch((error: unknown) => {
  const message =
    error instanceof ConfigClientError
      ? error.message
      : error instanceof Error
        ? (error.stack ?? error.message)
        : String(error);
  new Logger('Bootstrap').error(`${SERVICE} failed to start: ${message}`);
  process.exit(1);
});
