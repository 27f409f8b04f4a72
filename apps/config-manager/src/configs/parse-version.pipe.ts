import { Injectable, PipeTransform } from '@nestjs/common';
import { DomainError, ErrorCode } from '../common/domain-error';
import { parseDecimalInteger } from '../common/decimal-integer';

/** Parses a version path parameter (a positive integer in decimal digits); use with @RawParam. */
@Injectable()
export class ParseVersionPipe implements PipeTransform<string | undefined, number> {
  transform(value: string | undefined): number {
    const version = parseDecimalInteger(value);
    if (version === undefined || version < 1) {
      throw new DomainError(
        ErrorCode.ValidationFailed,
        'version must be a positive integer in decimal digits',
        [{ path: 'version', message: 'version must be a positive integer in decimal digits' }],
      );
    }
    return version;
  }
}
