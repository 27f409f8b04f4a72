import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../app.module';
import { SecretsService } from '../secrets/secrets.service';
import { loadSettings } from '../settings/settings';

/**
 * `npm run secrets:rotate`: re-encrypts every stored secret under the current CONFIG_MASTER_KEY.
 * Run it with the manager's environment, with the old key in CONFIG_MASTER_KEYS_PREVIOUS.
 */
async function main(): Promise<void> {
  const logger = new Logger('SecretsRotate');
  const settings = loadSettings(process.env, { warn: (m) => logger.warn(m) });
  const context = await NestFactory.createApplicationContext(AppModule.forRoot(settings), {
    logger: ['error', 'warn'],
  });
  try {
    const result = await context.get(SecretsService).rotateAll();
    logger.log(
      `Re-encrypted ${result.reencrypted} of ${result.total} secret(s) under master key ${result.keyId}. ` +
        'You can now remove the old key from CONFIG_MASTER_KEYS_PREVIOUS.',
    );
  } finally {
    await context.close();
  }
}

main().catch((error: unknown) => {
  new Logger('SecretsRotate').error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
