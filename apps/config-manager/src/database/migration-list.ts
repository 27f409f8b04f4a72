import { InitialSchema1763769600000 } from './migrations/1763769600000-initial-schema';
import { PublicationOutbox1763856000000 } from './migrations/1763856000000-publication-outbox';
import { Instances1763942400000 } from './migrations/1763942400000-instances';
import { InstanceOfflineSince1764806400000 } from './migrations/1764806400000-instance-offline-since';
import { SecretCiphertext1764892800000 } from './migrations/1764892800000-secret-ciphertext';
import { ServiceRegistry1764979200000 } from './migrations/1764979200000-service-registry';
import { InstanceLabelsRuns1765065600000 } from './migrations/1765065600000-instance-labels-runs';
import { StagedVersions1765152000000 } from './migrations/1765152000000-staged-versions';
import { Rollouts1765238400000 } from './migrations/1765238400000-rollouts';
import { InstanceFreshness1765328400000 } from './migrations/1765328400000-instance-freshness';
import { SecretVersionBinding1765332000000 } from './migrations/1765332000000-secret-version-binding';
import { CompactHistory1765418400000 } from './migrations/1765418400000-compact-history';

/** Every migration, oldest first; they run at start-up. */
export const MIGRATIONS = [
  InitialSchema1763769600000,
  PublicationOutbox1763856000000,
  Instances1763942400000,
  InstanceOfflineSince1764806400000,
  SecretCiphertext1764892800000,
  ServiceRegistry1764979200000,
  InstanceLabelsRuns1765065600000,
  StagedVersions1765152000000,
  Rollouts1765238400000,
  InstanceFreshness1765328400000,
  SecretVersionBinding1765332000000,
  CompactHistory1765418400000,
];
