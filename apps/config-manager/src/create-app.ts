import { INestApplication, LoggerService, RequestMethod, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AppModule } from './app.module';
import { jsonBody } from './common/json-body.middleware';
import type { Settings } from './settings/settings';

/** Largest accepted request body; larger ones get 413. */
export const BODY_LIMIT = '100kb';

/**
 * Creates the configured HTTP application (used by main.ts and by the end-to-end tests, so both
 * run exactly the same pipeline).
 */
export async function createApp(
  settings: Settings,
  logger?: LoggerService,
): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(settings), {
    logger: logger ?? levelsFrom(settings.logLevel),
    bodyParser: false,
    abortOnError: false,
  });
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(jsonBody(BODY_LIMIT));
  app.setGlobalPrefix('api', {
    exclude: [
      { path: 'health', method: RequestMethod.GET },
      { path: 'health/ready', method: RequestMethod.GET },
    ],
  });
  app.useGlobalPipes(
    new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }),
  );
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('config-manager')
      .setDescription('Typed, versioned, signed configuration for worker fleets')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/docs-json' });
  app.enableShutdownHooks();
  // Runs module start-up now (migrations, initial versions, key checks) so a bad store, defaults
  // file or key fails here, before the port is opened.
  await app.init();
  return app;
}

function levelsFrom(
  level: Settings['logLevel'],
): Array<'error' | 'warn' | 'log' | 'debug' | 'verbose'> {
  const order = ['error', 'warn', 'log', 'debug', 'verbose'] as const;
  return order.slice(0, order.indexOf(level) + 1);
}
