import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength } from 'class-validator';

/** Body of a secret write; the empty string clears the secret. */
export class SecretValueDto {
  @ApiProperty({ writeOnly: true, maxLength: 4096, description: 'The secret value; "" clears it' })
  @IsString()
  @MaxLength(4096)
  value!: string;
}
