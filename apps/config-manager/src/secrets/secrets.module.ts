import { Module } from '@nestjs/common';
import { ConfigsModule } from '../configs/configs.module';
import { SecretsController } from './secrets.controller';

/** Write-only secret endpoints; the sealing itself lives in SecretsService (part of a change). */
@Module({
  imports: [ConfigsModule],
  controllers: [SecretsController],
})
export class SecretsModule {}
