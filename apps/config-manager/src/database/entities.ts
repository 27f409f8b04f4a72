import { AuditEntryEntity } from '../audit/audit-entry.entity';
import { ConfigVersionEntity } from '../configs/entities/config-version.entity';
import { ServiceEntity } from '../configs/entities/service.entity';
import { InstanceEntity } from '../instances/instance.entity';
import { SecretEntity } from '../secrets/secret.entity';

/** Every entity of the manager's store. */
export const ENTITIES = [
  ServiceEntity,
  ConfigVersionEntity,
  SecretEntity,
  AuditEntryEntity,
  InstanceEntity,
];
