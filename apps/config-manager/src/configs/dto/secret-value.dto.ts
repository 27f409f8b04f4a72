import { ApiProperty } from '@nestjs/swagger';
import { MAX_SECRET_LENGTH, MaxCodePoints } from '@app/contracts';
import { IsString } from 'class-validator';

/** Body of a secret write; the empty string clears the secret. */
export class SecretValueDto {
  @ApiProperty({
    writeOnly: true,
    maxLength: MAX_SECRET_LENGTH,
    description: 'The secret value; "" clears it',
  })
  @IsString()
  @MaxCodePoints(MAX_SECRET_LENGTH)
  value!: string;
}
