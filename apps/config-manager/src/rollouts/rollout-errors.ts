import { DomainError, ErrorCode } from '../common/domain-error';
import type { RolloutRecord } from './rollout-record';

/** 409 for a change the active rollout `active` blocks, naming it and how to end it. */
export function rolloutActive(active: RolloutRecord): DomainError {
  const base = `/api/services/${active.service}/rollouts/${active.id}`;
  const message =
    `${active.service} has an active rollout ${active.id} (v${active.version}, ${active.state}): ` +
    `finish it (POST ${base}/promote) or abort it (POST ${base}/abort) first, or stage the change (X-Publish: staged)`;
  return new DomainError(ErrorCode.RolloutActive, message, [{ path: 'rollout', message }]);
}
