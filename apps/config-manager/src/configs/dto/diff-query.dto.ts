import { ApiProperty } from '@nestjs/swagger';
import { DecimalInteger } from '../../common/decimal-integer';

/** The two versions to compare. */
export class DiffQueryDto {
  @ApiProperty({ type: 'integer', minimum: 1 })
  @DecimalInteger({ min: 1 })
  from!: number;

  @ApiProperty({ type: 'integer', minimum: 1 })
  @DecimalInteger({ min: 1 })
  to!: number;
}
