import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';

/** What to search for, case-insensitively, in keys and values. */
export class SearchQueryDto {
  @ApiProperty({ minLength: 1, maxLength: 200, example: 'threshold' })
  @IsString()
  @Length(1, 200)
  q!: string;
}
