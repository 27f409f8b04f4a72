import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Response } from 'express';
import { Observable, tap } from 'rxjs';
import { DatabaseService } from '../database/database.service';

/**
 * Marks every response `X-Read-Only: true` while the database is unavailable. Decided when the
 * handler finishes, because a write may be what discovers that the database is back.
 */
@Injectable()
export class ReadOnlyInterceptor implements NestInterceptor {
  constructor(private readonly db: DatabaseService) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const mark = () => {
      if (!this.db.isAvailable()) {
        context.switchToHttp().getResponse<Response>().setHeader('X-Read-Only', 'true');
      }
    };
    return next.handle().pipe(tap({ next: mark, error: mark }));
  }
}
