import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { DatabaseService } from '../database/database.service';

/** The store answers; when it does not, the manager serves reads from memory and refuses writes. */
@Injectable()
export class DatabaseHealthIndicator {
  constructor(
    private readonly db: DatabaseService,
    private readonly health: HealthIndicatorService,
  ) {}

  async check(key: 'database') {
    const indicator = this.health.check(key);
    return (await this.db.ping())
      ? indicator.up()
      : indicator.down({ reason: this.db.unavailableReason() ?? 'unreachable', readOnly: true });
  }
}
