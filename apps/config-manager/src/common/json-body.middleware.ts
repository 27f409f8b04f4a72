import { json } from 'express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { checkJsonSafety } from '@app/contracts';
import { DomainError, ErrorCode } from './domain-error';
import { findInvalidUtf8 } from './utf8-body';

/** Thrown by the parser's verify hook; carries the domain error the body deserves. */
class BodyRefused extends Error {
  readonly type = 'body.refused';
  constructor(readonly domainError: DomainError) {
    super(domainError.message);
  }
}

/**
 * Parses JSON request bodies and turns every way a body can be wrong into a domain error with a
 * clear message: not JSON (415, instead of being silently read as `{}`), malformed (400), too
 * large (413), not UTF-8 (400 naming the byte and the path: a decoder would silently turn bad
 * bytes into U+FFFD), or carrying keys like `__proto__`, absurd nesting or strings that are not
 * well-formed Unicode (400, with the path), before any handler sees it.
 */
export function jsonBody(defaultLimit: string, larger: readonly LargerBody[] = []): RequestHandler {
  const fallback = parserFor(defaultLimit);
  const routes = larger.map((route) => ({ ...route, parse: parserFor(route.limit) }));
  return (req: Request, res: Response, next: NextFunction) => {
    const route = routes.find((r) => r.matches(req));
    const parse = route?.parse ?? fallback;
    const limit = route?.limit ?? defaultLimit;
    const hasBody =
      Number(req.headers['content-length'] ?? 0) > 0 ||
      req.headers['transfer-encoding'] !== undefined;
    if (!hasBody) {
      next();
      return;
    }
    if (!req.is(['application/json', 'application/*+json'])) {
      next(
        new DomainError(
          ErrorCode.UnsupportedMediaType,
          'Send request bodies as JSON with "Content-Type: application/json"',
        ),
      );
      return;
    }
    parse(req, res, (error?: unknown) => {
      if (error) {
        next(bodyError(error, limit));
        return;
      }
      const issues = checkJsonSafety(req.body);
      if (issues.length > 0) {
        next(
          new DomainError(
            ErrorCode.ValidationFailed,
            `Request body refused: ${issues.map((i) => i.message).join('; ')}`,
            issues,
          ),
        );
        return;
      }
      next();
    });
  };
}

/** A route whose bodies may be larger than the default limit (a service's schema). */
export interface LargerBody {
  readonly matches: (req: Request) => boolean;
  readonly limit: string;
}

function parserFor(limit: string): RequestHandler {
  return json({ limit, strict: false, verify: verifyUtf8 });
}

function verifyUtf8(_req: unknown, _res: unknown, body: Buffer, encoding: string): void {
  if (encoding.toLowerCase() !== 'utf-8') {
    throw new BodyRefused(
      new DomainError(ErrorCode.UnsupportedMediaType, 'Send request bodies as UTF-8 JSON'),
    );
  }
  const problem = findInvalidUtf8(body);
  if (problem === undefined) return;
  const where =
    problem.path === '' ? '' : `, in ${problem.inKey ? 'a key of ' : ''}${problem.path}`;
  const message = `Request body is not valid UTF-8 (at byte ${problem.offset}${where})`;
  throw new BodyRefused(
    new DomainError(ErrorCode.ValidationFailed, message, [{ path: problem.path, message }]),
  );
}

function bodyError(error: unknown, limit: string): DomainError {
  if (error instanceof BodyRefused) return error.domainError;
  const type =
    typeof error === 'object' && error !== null ? (error as { type?: unknown }).type : undefined;
  switch (type) {
    case 'entity.too.large':
      return new DomainError(ErrorCode.PayloadTooLarge, `Request body is larger than ${limit}`);
    case 'entity.parse.failed':
      return new DomainError(ErrorCode.ValidationFailed, 'Request body is not valid JSON');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new DomainError(ErrorCode.UnsupportedMediaType, 'Send request bodies as UTF-8 JSON');
    default:
      return new DomainError(ErrorCode.ValidationFailed, 'Request body could not be read');
  }
}
