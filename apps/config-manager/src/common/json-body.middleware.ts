import { json } from 'express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { checkJsonSafety } from '@app/contracts';
import { DomainError, ErrorCode } from './domain-error';

/**
 * Parses JSON request bodies and turns every way a body can be wrong into a domain error with a
 * clear message: not JSON (415, instead of being silently read as `{}`), malformed (400), too
 * large (413), or carrying keys like `__proto__` or absurd nesting (400, with the path), before
 * any handler sees it.
 */
export function jsonBody(limit: string): RequestHandler {
  const parse = json({ limit, strict: false });
  return (req: Request, res: Response, next: NextFunction) => {
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

function bodyError(error: unknown, limit: string): DomainError {
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
