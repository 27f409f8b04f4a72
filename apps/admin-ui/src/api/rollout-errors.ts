// Recognising the manager's refusals that concern rollouts, whichever request met them.
import type { ApiError } from './client';

/**
 * A write refused because the service has an active rollout (409 ROLLOUT_ACTIVE; its first
 * detail names `rollout`, its message the rollout's id).
 */
export function isRolloutActive(error: ApiError): boolean {
  return error.status === 409 && error.body?.details?.[0]?.path === 'rollout';
}
