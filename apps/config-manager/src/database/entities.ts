import { AuditEntryEntity } from '../audit/audit-entry.entity';
import { ConfigVersionEntity } from '../configs/entities/config-version.entity';
import { ServiceSchemaEntity } from '../configs/entities/service-schema.entity';
import { ServiceEntity } from '../configs/entities/service.entity';
import { InstanceEntity } from '../instances/instance.entity';
import { RolloutEntity } from '../rollouts/rollout.entity';
import { SecretEntity } from '../secrets/secret.entity';
import { StagedSecretEntity } from '../secrets/staged-secret.entity';

/** Every entity of the manager's store. */
export const ENTITIES = [
  ServiceEntity,
  ServiceSchemaEntity,
  ConfigVersionEntity,
  SecretEntity,
  StagedSecretEntity,
  AuditEntryEntity,
  InstanceEntity,
  RolloutEntity,
];
