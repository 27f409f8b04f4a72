import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EnvironmentError } from '@app/contracts';
import { AppLogger, bootLogger, exitOnStartFailure } from '@app/logging';
import { RunLoopService } from './runs/run-loop.service';
import { loadWorkerEnvironment } from './runs/worker-settings';
import { WorkerModule } from './worker.module';

const SERVICE = 'dedup-worker';

async function bootstrap(): Promise<void> {
  // Until the app's own logger takes over: start-up warnings and failures in the same format.
  Logger.overrideLogger(bootLogger(SERVICE, process.env));
  const logger = new Logger('Bootstrap');
  const { client: options, settings } = loadWorkerEnvironment(
    process.env,
    process.argv.slice(2),
    SERVICE,
    logger,
  );
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(options, settings), {
    logger: AppLogger.create(settings.logging),
  });
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

/**
 * Starts the dedup-worker: what `main.ts` runs, and what the bundle (`npm run build`,
 * dist/bundle/dedup-worker.js) exports for its launcher. A start-up failure is logged and exits 1.
 */
export function start(): Promise<void> {
  return bootstrap().catch((error: unknown) =>
    exitOnStartFailure(SERVICE, error, error instanceof EnvironmentError),
  );
}
