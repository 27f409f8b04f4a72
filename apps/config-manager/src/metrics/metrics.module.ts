import { Module } from '@nestjs/common';
import { InstancesModule } from '../instances/instances.module';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';

/** Prometheus metrics of this manager, served at /metrics. */
@Module({
  imports: [InstancesModule],
  controllers: [MetricsController],
  providers: [MetricsService],
  exports: [MetricsService],
})
export class MetricsModule {}
