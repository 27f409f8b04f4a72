import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { RetainedConfigWatch } from '../publishing/retained-config-watch';

/**
 * What the manager found on its own config topics: forged, empty, garbage or older retained
 * messages it replaced, and newer ones signed with its key that its store does not have. Up
 * either way (a repaired bus is a working bus); the incidents tell ops that some client can
 * write those topics.
 */
@Injectable()
export class RetainedConfigsHealthIndicator {
  constructor(
    private readonly watch: RetainedConfigWatch,
    private readonly health: HealthIndicatorService,
  ) {}

  check(key: 'retainedConfigs') {
    const { total, recent } = this.watch.incidents();
    return this.health.check(key).up({ incidents: total, recent });
  }
}
