import { Injectable, OnModuleInit } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { MetricsService } from '../metrics/metrics.service';
import { type RolloutCount, RolloutRepository } from './rollout.repository';

/**
 * `config_rollouts{service,state}` in /metrics: how many rollouts each service has in each
 * state, read from the store at scrape time (the last counts while the store is away).
 */
@Injectable()
export class RolloutMetrics implements OnModuleInit {
  private last: RolloutCount[] = [];

  constructor(
    private readonly metrics: MetricsService,
    private readonly rollouts: RolloutRepository,
  ) {}

  onModuleInit(): void {
    const read = () => this.read();
    new Gauge({
      name: 'config_rollouts',
      help: 'Rollouts per service and state (pending, deploying, baking, paused, rolling_back, complete, rolled_back, aborted)',
      labelNames: ['service', 'state'] as const,
      registers: [this.metrics.registry],
      async collect() {
        this.reset();
        for (const count of await read()) {
          this.set({ service: count.service, state: count.state }, count.count);
        }
      },
    });
  }

  private async read(): Promise<RolloutCount[]> {
    try {
      this.last = await this.rollouts.countByState();
    } catch {
      // The store is away: the last counts stand.
    }
    return this.last;
  }
}
