import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConfigClientError, configClientOptionsFromEnv } from '@app/config-client';
import { RunLoopService } from './runs/run-loop.service';
import { loadWorkerSettings, WorkerSettingsError } from './runs/worker-settings';
import { WorkerModule } from './worker.module';

const SERVICE = 'dedup-worker';

async function bootstrap(): Promise<void> {
  const options = configClientOptionsFromEnv(process.env, { service: SERVICE });
  const settings = loadWorkerSettings(process.env, process.argv.slice(2));
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(options, settings));
  const logger = new Logger('Bootstrap');
  if (settings.once) {
    const report = await app.get(RunLoopService).runOnce();
    logger.log(
      report
        ? `--once: wrote ${report.runId}.json`
        : `--once: no batch files in ${settings.inputDir}`,
    );
    await app.close();
    return;
  }
  app.enableShutdownHooks();
  logger.log(`${SERVICE} ${options.instanceId} started (last-known-good: ${options.lkgPath})`);
}

bootstrap().catch((error: unknown) => {
  const known = error instanceof ConfigClientError || error instanceof WorkerSettingsError;
  const message =
    error instanceof Error
      ? known
        ? error.message
        : (error.stack ?? error.message)
      : String(error);
  new Logger('Bootstrap').error(`${SERVICE} failed to start: ${message}`);
  process.exit(1);
});
