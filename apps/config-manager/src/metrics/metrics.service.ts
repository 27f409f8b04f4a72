import { Injectable } from '@nestjs/common';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { InstancesService } from '../instances/instances.service';

/** Route label of a request that matched no route (404, or refused before routing: 413, 415). */
const UNMATCHED_ROUTE = '(unmatched)';

/** The route template a request matched (`/api/services/:service/config`), never its raw URL. */
export function routeTemplateOf(req: Request): string {
  const route = (req.route as { path?: unknown } | undefined)?.path;
  return typeof route === 'string' ? route : UNMATCHED_ROUTE;
}

/**
 * The manager's Prometheus metrics, in a registry of its own (not prom-client's global one, so
 * several managers in one process never clash): HTTP latency, publishing outcomes, how the
 * fleet is spread over versions, and the default process metrics.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  private readonly versionsPublished = new Counter({
    name: 'config_versions_published_total',
    help: 'Config versions acknowledged by the MQTT broker, per service',
    labelNames: ['service'] as const,
    registers: [this.registry],
  });
  private readonly publishFailures = new Counter({
    name: 'config_publish_failures_total',
    help: 'Publishes the MQTT broker did not acknowledge (retried by the sweep), per service',
    labelNames: ['service'] as const,
    registers: [this.registry],
  });

  private readonly retainedIncidents = new Counter({
    name: 'config_retained_incidents_total',
    help:
      'Messages on a config topic that were not the current signed envelope, per service and problem ' +
      '(empty, oversized, malformed, unsupported-alg, unknown-key, signature, service, stale: republished at once; ' +
      'ahead: a newer version signed with our key than the store holds)',
    labelNames: ['service', 'problem'] as const,
    registers: [this.registry],
  });

  private readonly heartbeats = new Counter({
    name: 'config_heartbeats_total',
    help:
      'Heartbeat attestations the MQTT broker acknowledged: the current version re-signed with a new issuedAt ' +
      'and expiresAt, per service and topic (config, candidate)',
    labelNames: ['service', 'topic'] as const,
    registers: [this.registry],
  });

  private readonly accessDenials = new Counter({
    name: 'config_http_access_denied_total',
    help:
      'Requests refused 401 (no or an unknown token: token="(unknown)") or 403 (a known token lacking the role), ' +
      'per status, route template and token name',
    labelNames: ['status', 'route', 'token'] as const,
    registers: [this.registry],
  });

  constructor(instances: InstancesService) {
    collectDefaultMetrics({ register: this.registry });
    new Counter({
      name: 'config_instance_reports_refused_total',
      help:
        'Health reports the instance view refused, per service and reason (malformed, service, instance, ' +
        'version: above any published version, capacity: INSTANCES_MAX_PER_SERVICE reached)',
      labelNames: ['service', 'reason'] as const,
      registers: [this.registry],
      // Counted by the instance view; read at scrape time so the two never disagree.
      collect() {
        this.reset();
        for (const refusal of instances.refused()) {
          this.inc({ service: refusal.service, reason: refusal.reason }, refusal.count);
        }
      },
    });
    new Gauge({
      name: 'config_instances',
      help: 'Worker instances per service, applied config version and status',
      labelNames: ['service', 'version', 'status'] as const,
      registers: [this.registry],
      // Computed at scrape time from the instance view, so it never drifts from it.
      collect() {
        this.reset();
        for (const group of instances.byAppliedVersion()) {
          this.set(
            {
              service: group.service,
              version: String(group.version ?? 'none'),
              status: group.status,
            },
            group.count,
          );
        }
      },
    });
    new Gauge({
      name: 'config_instances_stale',
      help:
        'Worker instances that are up and report stale: nothing attested their applied version for longer ' +
        'than their CONFIG_MAX_STALENESS (check the broker, its ACL and the manager heartbeat), per service',
      labelNames: ['service'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const { service, count } of instances.staleByService()) this.set({ service }, count);
      },
    });
  }

  /** A version of `service` was acknowledged by the broker for the first time. */
  versionPublished(service: string): void {
    this.versionsPublished.inc({ service });
  }

  /** The broker did not acknowledge a publish of `service`. */
  publishFailed(service: string): void {
    this.publishFailures.inc({ service });
  }

  /** A heartbeat re-signed `service`'s current version (or its rollout's candidate) and the broker acknowledged it. */
  heartbeat(service: string, topic: 'config' | 'candidate'): void {
    this.heartbeats.inc({ service, topic });
  }

  /** A request was refused 401 or 403 (`route` a template, `token` a configured name: bounded labels). */
  accessDenied(status: 401 | 403, route: string, token: string): void {
    this.accessDenials.inc({ status: String(status), route, token });
  }

  /** A config topic held something other than the current signed envelope. */
  retainedIncident(service: string, problem: string): void {
    this.retainedIncidents.inc({ service, problem });
  }

  /** Express middleware timing every request; labels use the route template, never the raw URL. */
  httpMiddleware(): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      const end = this.httpDuration.startTimer();
      res.once('finish', () => {
        end({
          method: req.method,
          route: routeTemplateOf(req),
          status: String(res.statusCode),
        });
      });
      next();
    };
  }
}
