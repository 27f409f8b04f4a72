import { Injectable, PipeTransform } from '@nestjs/common';
import { DomainError, ErrorCode } from '../common/domain-error';

/** Parses a version path parameter (a positive integer). */
@Injectable()
export class ParseVersionPipe implements PipeTransform<string, number> {
  transform(value: string): number {
    if (!/^[1-9]\d{0,8}$/.test(value)) {
      throw new DomainError(ErrorCode.ValidationFailed, 'version must be a positive integer', [
        { path: 'version', message: 'version must be a positive integer' },
      ]);
    }
    return Number(value);
  }
}
