import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { createServer, Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { type MatchingConfig, REJECTION_REASONS } from '@app/contracts';
import { ConfigClient } from '@app/config-client';
import { WORKER_SETTINGS } from '../runs/worker-settings.token';
import type { WorkerSettings } from '../runs/worker-settings';

/**
 * The worker's counters in Prometheus text on METRICS_PORT (`/metrics`), and `/health` for a
 * container healthcheck: configs accepted and rejected by reason, runs and their duration, the
 * applied version, whether the worker runs degraded, and whether its config is stale.
 */
@Injectable()
export class WorkerMetricsService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(WorkerMetricsService.name);
  private readonly registry = new Registry();
  private server: Server | undefined;
  private readonly accepted = new Counter({
    name: 'dedup_worker_config_accepted_total',
    help: 'Config versions accepted from the broker',
    registers: [this.registry],
  });
  private readonly rejected = new Counter({
    name: 'dedup_worker_config_rejected_total',
    help: 'Config messages refused, by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  private readonly runs = new Counter({
    name: 'dedup_worker_runs_total',
    help: 'De-duplication runs completed',
    registers: [this.registry],
  });
  private readonly runDuration = new Histogram({
    name: 'dedup_worker_run_duration_seconds',
    help: 'Duration of a de-duplication run',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  private readonly events = new Counter({
    name: 'dedup_worker_events_total',
    help: 'Events read by runs',
    registers: [this.registry],
  });

  constructor(
    @Inject(WORKER_SETTINGS) private readonly settings: WorkerSettings,
    private readonly client: ConfigClient<MatchingConfig>,
  ) {
    for (const reason of REJECTION_REASONS) this.rejected.inc({ reason }, 0);
    const status = () => this.client.status();
    new Gauge({
      name: 'dedup_worker_config_applied_version',
      help: 'Newest config version accepted',
      registers: [this.registry],
      collect() {
        this.set(status().appliedVersion ?? 0);
      },
    });
    new Gauge({
      name: 'dedup_worker_degraded',
      help: '1 while running on last-known-good or defaults because no valid config arrived',
      registers: [this.registry],
      collect() {
        this.set(status().status === 'degraded' ? 1 : 0);
      },
    });
    // The SDK's freshness (docs/recovery.md), named as every worker on the SDK reports it.
    new Gauge({
      name: 'config_client_stale',
      help: '1 while the config was not attested for longer than CONFIG_MAX_STALENESS (a frozen broker or a stopped manager heartbeat)',
      registers: [this.registry],
      collect() {
        this.set(status().stale === true ? 1 : 0);
      },
    });
    new Gauge({
      name: 'config_client_attested_age_seconds',
      help: 'Seconds since the applied config version was last attested (accepted or re-signed by a heartbeat); NaN before any',
      registers: [this.registry],
      collect() {
        const attestedAt = status().attestedAt;
        this.set(
          attestedAt === undefined
            ? Number.NaN
            : Math.max(0, (Date.now() - Date.parse(attestedAt)) / 1000),
        );
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'dedup_worker_' });
    // Subscribed at construction: the SDK starts (and may accept a config) before any module's
    // bootstrap hook runs.
    this.client.on('accepted', (e) => {
      if (e.source === 'broker') this.accepted.inc();
    });
    this.client.on('rejected', (e) => this.rejected.inc({ reason: e.reason }));
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.settings.metricsPort === undefined) return;
    const server = createServer((req, res) => {
      if (req.url === '/metrics') {
        void this.registry.metrics().then((text) => {
          res.writeHead(200, { 'Content-Type': this.registry.contentType });
          res.end(text);
        });
      } else if (req.url === '/health') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ status: 'ok', config: this.client.status().status }));
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.settings.metricsPort, this.settings.metricsHost, resolve);
    });
    this.server = server;
    this.logger.log(
      `Metrics on http://${this.settings.metricsHost}:${this.settings.metricsPort}/metrics`,
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Records a finished run. */
  recordRun(seconds: number, events: number): void {
    this.runs.inc();
    this.runDuration.observe(seconds);
    this.events.inc(events);
  }
}
