import { INestApplication, RequestMethod, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { RequestHandler } from 'express';
import helmet from 'helmet';
import type { DestinationStream } from 'pino';
import { adminUiHandlers } from './admin-ui/admin-ui.middleware';
import { AppModule } from './app.module';
import { jsonBody } from './common/json-body.middleware';
import { readOnlyHeader } from './common/read-only-header';
import { DatabaseService } from './database/database.service';
import { AppLogger } from '@app/logging';
import { httpRequestLog } from './logging/http-request-log';
import { REQUEST_ID_HEADER } from './logging/request-id';
import { MetricsService } from './metrics/metrics.service';
import type { Settings } from './settings/settings';

/** Largest accepted request body; larger ones get 413. */
export const BODY_LIMIT = '100kb';
/**
 * PUT /api/services/:service carries a whole schema (up to MAX_SCHEMA_BYTES as canonical JSON,
 * refused with 413 naming that limit) and may carry a config: its body may be larger.
 */
export const REGISTRATION_BODY_LIMIT = '512kb';
const REGISTRATION_ROUTE = /^\/api\/services\/[^/]+\/?$/;
/** POST …/import carries a signed bundle with a whole schema and a config: the same limit. */
const IMPORT_ROUTE = /^\/api\/services\/[^/]+\/import\/?$/;

/** Where Swagger UI is served; the only page that needs a looser Content-Security-Policy. */
const DOCS_PATH = 'api/docs';

export interface CreateAppOptions {
  /** Where the log lines go (default stdout); tests pass a capture. */
  logDestination?: DestinationStream;
}

/**
 * Creates the configured HTTP application (used by main.ts and by the end-to-end tests, so both
 * run exactly the same pipeline).
 */
export async function createApp(
  settings: Settings,
  options: CreateAppOptions = {},
): Promise<INestApplication> {
  const logger = AppLogger.create(
    {
      app: 'config-manager',
      env: settings.appEnv,
      level: settings.logLevel,
      format: settings.logFormat,
    },
    options.logDestination,
  );
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(settings), {
    logger,
    bodyParser: false,
    abortOnError: false,
  });
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.set('trust proxy', settings.trustProxyHops);
  // Order matters: the request id and the timer come first, so even a request refused by the
  // body parser (413, 415) is logged, measured and answered with its id.
  app.use(httpRequestLog(logger));
  app.use(app.get(MetricsService).httpMiddleware());
  app.use(securityHeaders());
  app.use(readOnlyHeader(app.get(DatabaseService)));
  if (settings.corsOrigins.length > 0) {
    app.enableCors({ origin: settings.corsOrigins, exposedHeaders: [REQUEST_ID_HEADER] });
  }
  const adminUi = adminUiHandlers(settings.adminUiDir);
  app.use(adminUi.files);
  app.use(adminUi.fallback);
  if (!adminUi.built) {
    logger.warn(
      `No admin page in ${settings.adminUiDir}: run \`npm run build\` to serve it at /`,
      'AdminUi',
    );
  }
  app.use(
    jsonBody(BODY_LIMIT, [
      {
        matches: (req) => req.method === 'PUT' && REGISTRATION_ROUTE.test(req.path),
        limit: REGISTRATION_BODY_LIMIT,
      },
      {
        matches: (req) => req.method === 'POST' && IMPORT_ROUTE.test(req.path),
        limit: REGISTRATION_BODY_LIMIT,
      },
    ]),
  );
  app.setGlobalPrefix('api', {
    exclude: [
      { path: 'health', method: RequestMethod.GET },
      { path: 'health/ready', method: RequestMethod.GET },
      { path: 'metrics', method: RequestMethod.GET },
    ],
  });
  app.useGlobalPipes(
    new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }),
  );
  // Built on the first request for the docs, not at start (issue 18: it took ~60 ms of every start).
  const document = () =>
    SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('config-manager')
        .setDescription('Typed, versioned, signed configuration for worker fleets')
        .addBearerAuth()
        .build(),
    );
  SwaggerModule.setup(DOCS_PATH, app, document, { jsonDocumentUrl: 'api/docs-json' });
  app.enableShutdownHooks();
  // Runs module start-up now (migrations, initial versions, key checks) so a bad store, defaults
  // file or key fails here, before the port is opened.
  await app.init();
  return app;
}

/**
 * helmet's defaults for the API. The pages (the admin page at `/` and Swagger UI) load their
 * scripts, styles and images from this server only, and the manager is often reached over plain
 * HTTP inside a cluster, where `upgrade-insecure-requests` would send those loads to an https
 * port that does not exist.
 */
function securityHeaders(): RequestHandler {
  const strict = helmet();
  const pages = helmet({
    contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
  });
  const isApi = (path: string) =>
    (path === '/api' || path.startsWith('/api/')) &&
    path !== `/${DOCS_PATH}` &&
    !path.startsWith(`/${DOCS_PATH}/`);
  return (req, res, next) => (isApi(req.path) ? strict : pages)(req, res, next);
}
