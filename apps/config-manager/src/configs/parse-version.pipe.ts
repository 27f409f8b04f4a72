import { Injectable, PipeTransform } from '@nestjs/common';
import { DomainError, ErrorCode } from '../common/domain-error';
import { parseDecimalInteger } from '../common/decimal-integer';

/** Parses a version path parameter (a positive integer in decimal digits); use with @RawParam. */
@Injectable()
export class ParseVersionPipe implements PipeTransform<string | undefined, number> {
  /** The parameter's name in the error. */
  protected readonly field: string = 'version';

  transform(value: string | undefined): number {
    const version = parseDecimalInteger(value);
    if (version === undefined || version < 1) {
      const message = `${this.field} must be a positive integer in decimal digits`;
      throw new DomainError(ErrorCode.ValidationFailed, message, [{ path: this.field, message }]);
    }
    return version;
  }
}

/** Parses a schema version path parameter, like ParseVersionPipe. */
@Injectable()
export class ParseSchemaVersionPipe extends ParseVersionPipe {
  protected override readonly field = 'schemaVersion';
}
