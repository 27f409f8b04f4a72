import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { BrokerConnectionService } from '../messaging/broker-connection.service';

/** The MQTT link is up; when it is not, writes are kept and published once it returns. */
@Injectable()
export class BrokerHealthIndicator {
  constructor(
    private readonly broker: BrokerConnectionService,
    private readonly health: HealthIndicatorService,
  ) {}

  check(key: 'broker') {
    const indicator = this.health.check(key);
    const link = this.broker.describe();
    return link.connected
      ? indicator.up({ url: link.url })
      : indicator.down({
          url: link.url,
          reason: link.error ?? 'not connected',
          note: 'writes are still accepted and published when the broker returns',
        });
  }
}
