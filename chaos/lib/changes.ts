import { randomInt } from 'node:crypto';

/** A PATCH body that changes one harmless field. */
export interface DistanceChange {
  geo: { max_distance_km: number };
}

/** A change to a random new value (one in a million repeats), so each write makes a version. */
export function distanceChange(): DistanceChange {
  return { geo: { max_distance_km: 1 + randomInt(1_000_000) / 1000 } };
}
