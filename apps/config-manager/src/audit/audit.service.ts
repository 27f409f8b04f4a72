import { Injectable } from '@nestjs/common';
import { EntityManager, LessThan } from 'typeorm';
import { DatabaseService } from '../database/database.service';
import { AuditEntryEntity } from './audit-entry.entity';

import type { AuditEntry, ChangeEntry } from '@app/contracts';

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
    return rows.map((row) => ({ ...row, changes: JSON.parse(row.changes) as ChangeEntry[] }));
  }
}
