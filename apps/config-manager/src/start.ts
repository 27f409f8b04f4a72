import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createApp } from './create-app';
import { EnvironmentError } from '@app/contracts';
import { bootLogger, exitOnStartFailure } from '@app/logging';
import { loadSettings } from './settings/settings';

async function bootstrap(): Promise<void> {
  // Until the app's own logger takes over: start-up warnings and failures in the same format.
  Logger.overrideLogger(bootLogger('config-manager', process.env));
  const logger = new Logger('Bootstrap');
  const settings = loadSettings(process.env, { warn: (m) => logger.warn(m) });
  const app = await createApp(settings);
  await app.listen(settings.port, settings.host);
  logger.log(
    `config-manager listening on http://${settings.host}:${settings.port} (API /api, docs /api/docs, ` +
      `store ${settings.database.type === 'sqlite' ? settings.database.path : 'postgres'})`,
  );
}

/**
 * Starts the config-manager: what `main.ts` runs, and what the bundle (`npm run build`,
 * dist/bundle/config-manager.js) exports for its launcher. A start-up failure is logged and exits 1.
 */
export function start(): Promise<void> {
  return bootstrap().catch((error: unknown) =>
    // Start-up failures name the variable or file to fix; no stack trace for those.
    exitOnStartFailure(
      'config-manager',
      error,
      error instanceof EnvironmentError ||
        (error instanceof Error && error.name === 'DefaultsFileError'),
    ),
  );
}
