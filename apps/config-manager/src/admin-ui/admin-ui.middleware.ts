// admin-ui/: serves the built admin page (apps/admin-ui) at `/`, its assets with long caching,
// and the page for every other non-API path; the API, probes and metrics are never shadowed.
import {
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
  static as serveStatic,
} from 'express';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Paths that belong to the API and probes, never to the page. */
const NOT_THE_PAGE = /^\/(api|health|metrics)(\/|$)/;

/** Content-hashed bundles from Vite: safe to cache for a year. */
const IMMUTABLE_ASSETS = /^\/assets\//;

export interface AdminUiHandlers {
  /** Whether ADMIN_UI_DIR held a built page at start (looked up once, not per request). */
  readonly built: boolean;
  /**
   * Serves the built files; hashed assets are cached for a year, everything else revalidated.
   * API, probe and metrics paths pass straight through: a file lookup (a stat on the thread pool)
   * per API read cost the GET path 6% of its CPU and a round trip through libuv.
   */
  readonly files: RequestHandler;
  /** Answers every other page path with index.html (the page routes in the browser). */
  readonly fallback: RequestHandler;
}

/**
 * The admin page (apps/admin-ui, built by `npm run build` into ADMIN_UI_DIR) at `/`. Only GET and
 * HEAD outside /api, /health and /metrics reach it, so an unknown API route still answers the
 * API's JSON 404. When the page was not built (at start), `/` says how to build it instead of a
 * bare 404.
 */
export function adminUiHandlers(dir: string): AdminUiHandlers {
  const index = join(dir, 'index.html');
  const built = existsSync(index);
  return {
    built,
    files: pageOnly(
      serveStatic(dir, {
        index: false,
        redirect: false,
        fallthrough: true,
        setHeaders: (res, path) =>
          res.setHeader(
            'Cache-Control',
            IMMUTABLE_ASSETS.test(path.slice(dir.length).replaceAll('\\', '/'))
              ? 'public, max-age=31536000, immutable'
              : 'no-cache',
          ),
      }),
    ),
    fallback: (req: Request, res: Response, next: NextFunction) => {
      if ((req.method !== 'GET' && req.method !== 'HEAD') || NOT_THE_PAGE.test(req.path)) {
        next();
        return;
      }
      if (IMMUTABLE_ASSETS.test(req.path) || !built) {
        // A missing bundle is a 404, not the page: the browser would try to run HTML as script.
        res
          .status(404)
          .type('text/plain')
          .send(
            built
              ? 'Not found'
              : 'The admin page is not built here: run `npm run build` (or set ADMIN_UI_DIR).',
          );
        return;
      }
      res.setHeader('Cache-Control', 'no-cache');
      res.sendFile(index);
    },
  };
}

/** `handler` for page paths only; the API, probes and metrics skip it. */
function pageOnly(handler: RequestHandler): RequestHandler {
  return (req, res, next) => (NOT_THE_PAGE.test(req.path) ? next() : handler(req, res, next));
}
