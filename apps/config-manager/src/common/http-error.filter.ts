import {
  ArgumentsHost,
  BadRequestException,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { STATUS_CODES } from 'node:http';
import { requestIdOf } from '../logging/request-id';
import type { ErrorBody, ErrorDetail } from '@app/contracts';
import { AccessDenialsService } from '../auth/access-denials.service';
import { ForbiddenError } from '../auth/roles';
import { DomainError, ErrorCode } from './domain-error';

function statusOf(code: ErrorCode): number {
  switch (code) {
    case ErrorCode.ValidationFailed:
      return HttpStatus.BAD_REQUEST;
    case ErrorCode.UnknownService:
    case ErrorCode.UnknownVersion:
    case ErrorCode.UnknownSecretPath:
    case ErrorCode.UnknownRollout:
      return HttpStatus.NOT_FOUND;
    case ErrorCode.VersionConflict:
      return HttpStatus.PRECONDITION_FAILED;
    case ErrorCode.SchemaConflict:
    case ErrorCode.ServiceArchived:
    case ErrorCode.CodeRegistered:
    case ErrorCode.RolloutActive:
    case ErrorCode.StagedVersionOutdated:
    case ErrorCode.VersionNotStaged:
    case ErrorCode.RolloutStateConflict:
    case ErrorCode.SecretUnreadable:
      return HttpStatus.CONFLICT;
    case ErrorCode.DatabaseUnavailable:
    case ErrorCode.BrokerUnavailable:
      return HttpStatus.SERVICE_UNAVAILABLE;
    case ErrorCode.Unauthenticated:
      return HttpStatus.UNAUTHORIZED;
    case ErrorCode.Forbidden:
      return HttpStatus.FORBIDDEN;
    case ErrorCode.UnsupportedMediaType:
      return HttpStatus.UNSUPPORTED_MEDIA_TYPE;
    case ErrorCode.PayloadTooLarge:
      return HttpStatus.PAYLOAD_TOO_LARGE;
  }
}

/** ValidationPipe errors arrive as a list of messages; turn them into path details. */
function detailsFromValidationPipe(response: unknown): ErrorDetail[] | undefined {
  if (typeof response !== 'object' || response === null) return undefined;
  const messages = (response as { message?: unknown }).message;
  if (!Array.isArray(messages)) return undefined;
  return messages
    .filter((m): m is string => typeof m === 'string')
    .map((message) => ({ path: message.split(' ')[0] ?? '', message }));
}

/**
 * Maps every failure to `{ statusCode, error, message, details?, requestId }`. Domain codes map exhaustively;
 * anything unexpected is logged with its stack and answered as a bare 500 with no internals.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger(HttpErrorFilter.name);

  constructor(private readonly denials: AccessDenialsService) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const res = http.getResponse<Response>();
    const body = this.toBody(exception, res);
    this.recordDenial(exception, http.getRequest<Request>());
    if (res.headersSent) return;
    const requestId = requestIdOf(http.getRequest<Request>());
    res.status(body.statusCode).json(requestId ? { ...body, requestId } : body);
  }

  /** 401s and 403s are counted (and a known token's 403 audited): access violations are visible. */
  private recordDenial(exception: unknown, req: Request): void {
    if (!(exception instanceof DomainError)) return;
    if (exception instanceof ForbiddenError) this.denials.forbidden(req, exception);
    else if (exception.code === ErrorCode.Unauthenticated) this.denials.unauthenticated(req);
  }

  private toBody(exception: unknown, res: Response): ErrorBody {
    if (exception instanceof DomainError) {
      if (exception.code === ErrorCode.Unauthenticated) {
        res.setHeader('WWW-Authenticate', 'Bearer');
      }
      if (exception.retryAfterSeconds !== undefined) {
        res.setHeader('Retry-After', String(exception.retryAfterSeconds));
      }
      return {
        ...build(statusOf(exception.code), exception.message, exception.details),
        code: exception.code,
      };
    }
    if (exception instanceof BadRequestException) {
      const details = detailsFromValidationPipe(exception.getResponse());
      const message = details?.length
        ? `Invalid request: ${details.map((d) => d.message).join('; ')}`
        : exception.message;
      return build(HttpStatus.BAD_REQUEST, message, details);
    }
    if (exception instanceof HttpException) {
      return build(exception.getStatus(), exception.message);
    }
    this.logger.error(
      `Unhandled error: ${exception instanceof Error ? (exception.stack ?? exception.message) : String(exception)}`,
    );
    return build(HttpStatus.INTERNAL_SERVER_ERROR, 'Internal server error');
  }
}

function build(statusCode: number, message: string, details?: ErrorDetail[]): ErrorBody {
  return {
    statusCode,
    error: STATUS_CODES[statusCode] ?? 'Error',
    message,
    ...(details && details.length > 0 ? { details } : {}),
  };
}
