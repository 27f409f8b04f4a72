import { Injectable } from '@nestjs/common';
import type { RolloutView } from '@app/contracts';
import { DomainError, ErrorCode } from '../common/domain-error';
import { truncate } from '../common/text';
import { ConfigReadsService } from '../configs/config-reads.service';
import { ServiceCatalog } from '../configs/service-catalog';
import { eligible, matchesSelector } from './cohorts';
import { RolloutDriver } from './rollout-driver.service';
import { checkAbort, type Move, pause, promote, resume } from './rollout-machine';
import { toView, type RolloutRecord } from './rollout-record';
import { parseRolloutRequest } from './rollout-request';
import { RolloutReleases } from './rollout-releases.service';
import { RolloutRepository } from './rollout.repository';

/** What a user can ask of a rollout. */
export type RolloutAction = 'pause' | 'resume' | 'abort' | 'promote';

const ROLLOUT_ID = /^r-[a-z0-9]{1,16}-[0-9a-f]{8}$/;

/**
 * The rollout API's use cases: start a rollout of a staged version (checked completely first:
 * a 400 names each problem, a selector must match an instance that is up), list and read them,
 * and pause, resume, abort or promote one. Every change goes through the driver, serialised with
 * its ticks.
 */
@Injectable()
export class RolloutsService {
  constructor(
    private readonly reads: ConfigReadsService,
    private readonly catalog: ServiceCatalog,
    private readonly rollouts: RolloutRepository,
    private readonly releases: RolloutReleases,
    private readonly driver: RolloutDriver,
  ) {}

  /** POST /api/services/:service/rollouts. */
  async create(service: string, body: unknown, actor: string): Promise<RolloutView> {
    await this.reads.discover(service);
    const name = this.catalog.active(service).definition.name;
    const { version, strategy } = parseRolloutRequest(body);
    const up = eligible(this.driver.observe(name).fleet);
    const unmatched = strategy.steps.flatMap((step, i) => {
      const cohort = step.cohort;
      if (!('selector' in cohort)) return [];
      return up.some((v) => matchesSelector(v, cohort.selector))
        ? []
        : [{ i, selector: cohort.selector }];
    });
    if (unmatched.length > 0) {
      const details = unmatched.map(({ i, selector }) => ({
        path: `strategy.steps.${i}.cohort.selector`,
        message: `selector ${JSON.stringify(selector)} matches no instance of ${name} that is up`,
      }));
      throw new DomainError(
        ErrorCode.ValidationFailed,
        `Invalid rollout: ${details.map((d) => d.message).join('; ')}`,
        details,
      );
    }
    const record = await this.releases.create(name, version, strategy, actor);
    this.driver.adopt(record);
    return toView(record);
  }

  /** GET /api/services/:service/rollouts, newest first. */
  async list(service: string, limit: number): Promise<RolloutView[]> {
    const name = this.catalog.entry(service).definition.name;
    return (await this.rollouts.list(name, limit)).map(toView);
  }

  /** GET /api/services/:service/rollouts/:id. */
  async get(service: string, id: string): Promise<RolloutView> {
    return toView(await this.find(service, id));
  }

  /** POST …/rollouts/:id/pause | resume | abort | promote. */
  async act(
    service: string,
    id: string,
    action: RolloutAction,
    user: string,
  ): Promise<RolloutView> {
    const found = await this.find(service, id);
    const by = `user:${user}` as const;
    return this.driver.serial(found.id, async () => {
      const record = await this.find(service, id);
      if (action === 'abort') {
        checkAbort(record);
        return toView(
          await this.driver.end(record, {
            final: 'aborted',
            by,
            message: `aborted by ${by} at step ${record.step}`,
            restore: true,
          }),
        );
      }
      const move = this.decide(record, action, by);
      const { record: after, won } = await this.driver.apply(record, move);
      if (!won) {
        throw new DomainError(
          ErrorCode.RolloutStateConflict,
          `rollout ${id} changed meanwhile (it is ${after.state} now): read it again and retry`,
        );
      }
      return toView(after);
    });
  }

  private decide(
    record: RolloutRecord,
    action: Exclude<RolloutAction, 'abort'>,
    by: `user:${string}`,
  ): Move {
    switch (action) {
      case 'pause':
        return pause(record, by, new Date());
      case 'resume':
        return resume(record, by, this.driver.observe(record.service));
      case 'promote':
        return promote(record, by);
    }
  }

  private async find(service: string, id: string): Promise<RolloutRecord> {
    const name = this.catalog.entry(service).definition.name;
    const found = ROLLOUT_ID.test(id) ? await this.rollouts.find(name, id) : undefined;
    if (!found) {
      throw new DomainError(ErrorCode.UnknownRollout, `${name} has no rollout ${truncate(id)}`);
    }
    return found;
  }
}
