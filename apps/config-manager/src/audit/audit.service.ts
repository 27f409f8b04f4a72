import { Injectable } from '@nestjs/common';
import { EntityManager, LessThan } from 'typeorm';
import { DatabaseService } from '../database/database.service';
import { AuditEntryEntity } from './audit-entry.entity';

/** One changed path: values for config, a bare flag for secrets (their values are never kept). */
export type AuditChange =
  { path: string; from: unknown; to: unknown } | { path: string; changed: true };

/** An audit record as the API shows it. */
export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  service: string;
  kind: string;
  versionBefore: number | null;
  versionAfter: number | null;
  reason: string | null;
  changes: AuditChange[];
}

/** Filters for listing the audit log, newest first. */
export interface AuditQuery {
  service?: string;
  limit: number;
  before?: number;
}

/** Records every change (inside the change's own transaction) and lists them for admins. */
@Injectable()
export class AuditService {
  constructor(private readonly db: DatabaseService) {}

  async record(manager: EntityManager, entry: Omit<AuditEntry, 'id'>): Promise<void> {
    await manager.insert(AuditEntryEntity, { ...entry, changes: JSON.stringify(entry.changes) });
  }

  async list(query: AuditQuery): Promise<AuditEntry[]> {
    const rows = await this.db.read((m) =>
      m.find(AuditEntryEntity, {
        where: {
          ...(query.service ? { service: query.service } : {}),
          ...(query.before ? { id: LessThan(query.before) } : {}),
        },
        order: { id: 'DESC' },
        take: query.limit,
      }),
    );
    return rows.map((row) => ({ ...row, changes: JSON.parse(row.changes) as AuditChange[] }));
  }
}
