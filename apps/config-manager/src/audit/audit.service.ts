import { Injectable } from '@nestjs/common';
import { EntityManager, LessThan } from 'typeorm';
import { DatabaseService } from '../database/database.service';
import { runSql } from '../database/sql';
import { VersionStore } from '../database/version-store';
import { AuditEntryEntity } from './audit-entry.entity';

import type { AuditEntry, ChangeEntry } from '@app/contracts';

/** Filters for listing the audit log, newest first. */
export interface AuditQuery {
  service?: string;
  limit: number;
  before?: number;
}

// A constant statement (database/sql.ts): every write records one.
const INSERT_AUDIT =
  'INSERT INTO {audit_log} (at, actor, service, kind, version_before, version_after, reason, changes) ' +
  'VALUES (?, ?, ?, ?, ?, ?, ?, ?)';

/**
 * Records every change (inside the change's own transaction) and lists them for admins. The row
 * of a change that made a version leaves out what that version's row already holds (see
 * AuditEntryEntity): its time, actor and reason, and its changes when they are exactly the
 * difference between the two versions; a list reads them back from the versions.
 */
@Injectable()
export class AuditService {
  constructor(
    private readonly db: DatabaseService,
    private readonly versions: VersionStore,
  ) {}

  async record(manager: EntityManager, entry: Omit<AuditEntry, 'id'>): Promise<void> {
    const shortcuts = await this.versions.auditShortcuts(manager, entry);
    await runSql(manager, INSERT_AUDIT, [
      shortcuts.facts ? FROM_VERSION : entry.at,
      shortcuts.facts ? FROM_VERSION : entry.actor,
      entry.service,
      shortcuts.kind ? FROM_VERSION : entry.kind,
      entry.versionBefore,
      entry.versionAfter,
      shortcuts.facts ? null : entry.reason,
      shortcuts.changes ? FROM_VERSION : JSON.stringify(entry.changes),
    ]);
  }

  async list(query: AuditQuery): Promise<AuditEntry[]> {
    return this.db.read(async (m) => {
      const rows = await m.find(AuditEntryEntity, {
        where: {
          ...(query.service ? { service: query.service } : {}),
          ...(query.before ? { id: LessThan(query.before) } : {}),
        },
        order: { id: 'DESC' },
        take: query.limit,
      });
      const entries: AuditEntry[] = [];
      for (const row of rows) entries.push(await this.entryOf(m, row));
      return entries;
    });
  }

  private async entryOf(manager: EntityManager, row: AuditEntryEntity): Promise<AuditEntry> {
    if ((row.at === FROM_VERSION || row.kind === FROM_VERSION) && row.versionAfter !== null) {
      const facts = await this.versions.facts(manager, row.service, row.versionAfter);
      if (!facts) throw new Error(`audit entry ${row.id} names a missing version`);
      if (row.kind === FROM_VERSION) row.kind = facts.kind;
      if (row.at === FROM_VERSION) {
        row.at = facts.createdAt;
        row.actor = facts.createdBy;
        row.reason = facts.reason;
      }
    }
    const changes =
      row.changes === FROM_VERSION && row.versionBefore !== null && row.versionAfter !== null
        ? await this.versions.changesBetween(
            manager,
            row.service,
            row.versionBefore,
            row.versionAfter,
          )
        : (JSON.parse(row.changes) as ChangeEntry[]);
    return { ...row, changes };
  }
}

/** What a column holds when the value is the version's (never a recorded value: those are never empty). */
const FROM_VERSION = '';
